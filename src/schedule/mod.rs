//! Scheduling: what gets probed when. For now a sweep on demand (`raqib sweep`); cron
//! schedules, opening-hour windows and the dialling guard join this module later.

pub mod guard;
pub mod kit;
pub mod on_demand;
pub mod plan;
pub mod serve;
pub mod sweep;
