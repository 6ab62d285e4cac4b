//! The scheduler under a controllable clock: `raqib serve`'s `Server` started at a chosen
//! instant (a Friday morning in the Gulf, a Sunday just after a missed run, a Saturday before
//! London's clocks go forward) plans each centre's calls in that centre's own hours, weekend,
//! holidays and time zone. Nothing is dialled: the dialling guard allows no prefix, and the
//! server is stopped once it has planned.

use chrono::{DateTime, Duration, Utc};
use raqib::config::Config;
use raqib::schedule::serve::{Clock, Server};
use raqib::store::Store;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const CENTRES: &str = "id,name_ar,name_en,agency,region,timezone,hours,phones,websites,tags\n\
    ry,م,Riyadh,A,R,Asia/Riyadh,Sun-Thu 08:00-14:30,+966110000001,,gulf;pilot\n\
    ae,م,Dubai,A,R,Asia/Dubai,Mon-Fri 07:30-14:30,+97140000001;+97140000002,,gulf\n\
    am,م,Amman,A,R,Asia/Amman,Sun-Thu 08:00-15:00,+96265000001,,\n\
    qa,م,Doha,A,R,Asia/Qatar,Sun-Thu 07:00-13:00,+97440000001,,gulf;pilot\n\
    bh,م,Manama,A,R,Asia/Bahrain,Sun-Thu 07:00-14:00,+97317000001,,gulf\n\
    ln,م,London,A,R,Europe/London,Mon-Fri 09:00-17:00,+442070000001,,\n\
    nt,م,Night,A,R,Asia/Riyadh,Sun-Sat 22:00-02:00,+966110000002,,\n";

const SCHEDULES: &str = "[guard]\nallow_prefixes = []\n\
    [serve]\ncall_margin_secs = 120\n\
    [holidays]\nQA = [\"2026-11-29\"]\n\
    [[schedule]]\nname = \"skip\"\ncron = \"0 8 * * SUN\"\ntimezone = \"Asia/Riyadh\"\nchannel = \"phone\"\nspread_minutes = 60\n\
    [[schedule]]\nname = \"defer\"\ncron = \"0 8 * * SUN\"\ntimezone = \"Asia/Riyadh\"\nchannel = \"phone\"\nwhen_closed = \"defer\"\nspread_minutes = 60\n\
    [[schedule]]\nname = \"pilot\"\ncron = \"0 8 * * SUN\"\ntimezone = \"Asia/Riyadh\"\nchannel = \"phone\"\nwhen_closed = \"defer\"\ntags = [\"gulf\", \"pilot\"]\n";

async fn store_with_centres(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, std::env::var("RAQIB_STORE").ok().as_deref())
        .await
        .unwrap();
    let centres = raqib::registry::parse_csv(CENTRES.as_bytes(), "centres.csv").unwrap();
    store.upsert_centres(&centres).await.unwrap();
    store
}

/// Starts a server at `now`, firing `run`, and stops it once it has planned; returns each sweep's planned jobs as
/// (schedule, centre, number, instant).
async fn plan_at(
    store: &Store,
    config: &str,
    now: DateTime<Utc>,
    run: &[&str],
) -> Vec<(String, String, String, DateTime<Utc>)> {
    let config = Config::parse(config, "test.toml", &raqib::alert::notifier::Kinds).unwrap();
    let server = Server::new(config, store.clone())
        .await
        .unwrap()
        .with_clock(Clock::starting_at(now));
    let run: Vec<String> = run.iter().map(|s| s.to_string()).collect();
    server
        // Stop at once: fires due at start are planned before the stop is looked at, and a
        // job is only started when its time comes (none is due within these milliseconds).
        .run(&run, std::future::ready(()))
        .await
        .unwrap();
    let mut out = Vec::new();
    for sweep in store.sweeps(None, 100).await.unwrap() {
        for j in store.open_jobs(sweep.id).await.unwrap() {
            out.push((
                sweep.schedule.clone().unwrap_or_default(),
                j.centre,
                j.target,
                j.not_before,
            ));
        }
    }
    out
}

fn of<'a>(
    jobs: &'a [(String, String, String, DateTime<Utc>)],
    schedule: &str,
    centre: &str,
) -> Vec<&'a DateTime<Utc>> {
    jobs.iter()
        .filter(|j| j.0 == schedule && j.1 == centre)
        .map(|j| &j.3)
        .collect()
}

fn all_within(times: &[&DateTime<Utc>], from: &str, until: &str) -> bool {
    !times.is_empty() && times.iter().all(|t| **t >= utc(from) && **t < utc(until))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friday_morning_in_the_gulf_plans_each_centre_in_its_own_hours() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_centres(dir.path()).await;
    // Friday 27 November 2026, 06:00 UTC: 09:00 in Riyadh, Amman, Doha and Manama (weekend
    // there), 10:00 in Dubai (open: a Saturday–Sunday weekend), 06:00 in London (not yet open).
    let now = utc("2026-11-27T06:00:00Z");
    let jobs = plan_at(&store, SCHEDULES, now, &["skip", "defer", "pilot"]).await;
    // Skip: only the centre open now, both its numbers, inside the 60-minute spread.
    let skip: Vec<_> = jobs.iter().filter(|j| j.0 == "skip").collect();
    assert_eq!(skip.len(), 2, "{skip:#?}");
    assert!(all_within(
        &of(&jobs, "skip", "ae"),
        "2026-11-27T06:00:00Z",
        "2026-11-27T07:00:00Z"
    ));
    // Defer: each closed centre in its next window, 60-minute spread from its opening.
    let d = |c| of(&jobs, "defer", c);
    assert!(all_within(
        &d("ae"),
        "2026-11-27T06:00:00Z",
        "2026-11-27T07:00:00Z"
    ));
    // Riyadh, Amman (UTC+3 all year), Bahrain: Sunday.
    assert!(all_within(
        &d("ry"),
        "2026-11-29T05:00:00Z",
        "2026-11-29T06:00:00Z"
    ));
    assert!(all_within(
        &d("am"),
        "2026-11-29T05:00:00Z",
        "2026-11-29T06:00:00Z"
    ));
    assert!(all_within(
        &d("bh"),
        "2026-11-29T04:00:00Z",
        "2026-11-29T05:00:00Z"
    ));
    // Doha: Sunday is a QA holiday, so Monday.
    assert!(all_within(
        &d("qa"),
        "2026-11-30T04:00:00Z",
        "2026-11-30T05:00:00Z"
    ));
    // London: later the same day, in GMT.
    assert!(all_within(
        &d("ln"),
        "2026-11-27T09:00:00Z",
        "2026-11-27T10:00:00Z"
    ));
    // Hours across midnight: tonight's 22:00 in Riyadh.
    assert!(all_within(
        &d("nt"),
        "2026-11-27T19:00:00Z",
        "2026-11-27T20:00:00Z"
    ));
    // Tags: only the centres carrying both `gulf` and `pilot`.
    let mut pilot: Vec<_> = jobs
        .iter()
        .filter(|j| j.0 == "pilot")
        .map(|j| &j.1[..])
        .collect();
    pilot.sort();
    assert_eq!(pilot, ["qa", "ry"]);
    assert_eq!(jobs.len(), 2 + 2 + 6 + 2, "{jobs:#?}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_missed_while_down_is_made_once_within_the_grace_time() {
    let config = "[guard]\nallow_prefixes = []\n[serve]\ngrace_minutes = 60\n\
        [[schedule]]\nname = \"weekly\"\ncron = \"0 8 * * SUN\"\ntimezone = \"Asia/Riyadh\"\nchannel = \"phone\"\ncentres = \"ry\"\n";
    for (now, expect_fire) in [
        // 20 minutes after Sunday 08:00 Riyadh (05:00 UTC): made now, for 05:00.
        ("2026-11-29T05:20:00Z", true),
        // 90 minutes after: beyond the grace time, left to next week.
        ("2026-11-29T06:30:00Z", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_centres(dir.path()).await;
        // Last week's run happened.
        let last = store
            .plan_sweep("phone", "weekly", utc("2026-11-22T05:00:00Z"), &[], &[])
            .await
            .unwrap()
            .unwrap();
        store.finish_sweep(last, "finished").await.unwrap();
        let jobs = plan_at(&store, config, utc(now), &[]).await;
        let sweeps = store.sweeps(None, 10).await.unwrap();
        if expect_fire {
            assert_eq!(sweeps.len(), 2, "{now}: {sweeps:#?}");
            assert_eq!(
                store.last_fired("weekly").await.unwrap(),
                Some(utc("2026-11-29T05:00:00Z"))
            );
            // Open now: the call lies between now and the 2-hour default spread.
            assert_eq!(jobs.len(), 1);
            assert!(jobs[0].3 >= utc(now) && jobs[0].3 < utc(now) + Duration::minutes(120));
        } else {
            assert_eq!(sweeps.len(), 1, "{now}: {sweeps:#?}");
            assert!(jobs.is_empty());
        }
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_call_in_london_lands_after_the_clocks_go_forward() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_centres(dir.path()).await;
    let config = "[guard]\nallow_prefixes = []\n\
        [[schedule]]\nname = \"uk\"\ncron = \"0 12 * * *\"\ntimezone = \"Europe/London\"\nchannel = \"phone\"\ncentres = \"ln\"\nwhen_closed = \"defer\"\nspread_minutes = 30\n";
    // Saturday 27 March 2027, noon GMT; British Summer Time starts Sunday 28 March at 01:00
    // UTC, so Monday's 09:00 opening is 08:00 UTC.
    let jobs = plan_at(&store, config, utc("2027-03-27T12:00:00Z"), &["uk"]).await;
    assert!(all_within(
        &of(&jobs, "uk", "ln"),
        "2027-03-29T08:00:00Z",
        "2027-03-29T08:30:00Z"
    ));
    store.close().await;
}
