//! Figures per agency drawn from the centres' own: how many of an agency's centres improved,
//! declined or held on the phone between two periods (`raqib trends`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CentreTrend, Trend};

/// One agency's count of phone trends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyTrends {
    pub agency: String,
    pub improved: u64,
    pub declined: u64,
    pub unchanged: u64,
}

/// The phone trends of `trends` counted per agency, agencies in name order; a centre without
/// a trend (too little data in either period) counts in none.
pub fn trend_counts(trends: &[CentreTrend]) -> Vec<AgencyTrends> {
    let mut per_agency: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for t in trends {
        let counts = per_agency.entry(&t.agency).or_default();
        match t.phone.trend {
            Some(Trend::Improved) => counts[0] += 1,
            Some(Trend::Declined) => counts[1] += 1,
            Some(Trend::Unchanged) => counts[2] += 1,
            None => {}
        }
    }
    per_agency
        .into_iter()
        .map(|(agency, [improved, declined, unchanged])| AgencyTrends {
            agency: agency.to_string(),
            improved,
            declined,
            unchanged,
        })
        .collect()
}
