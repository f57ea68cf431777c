//! Work orders end to end: raised by a chain, moved through their life cycle in the store,
//! and handed back to the chain as feedback.

mod common;

use std::sync::{Arc, Mutex};

use common::{LINES, LineCollector};
use governance_apply::work_orders::{
    NewWorkOrder, ResolutionOutcome, WorkOrderApplicator, WorkOrderConfig, WorkOrderError,
    WorkOrderState, WorkOrderStore,
};
use governance_core::{
    Adjustment, Analyzer, Chain, Feedback, FeedbackTarget, Finding, FindingKind, GovernedBatch,
    Label, Result, Severity, Stage, StageContext,
};

/// Emits one error-severity alert per listed station at the end of each round, and keeps the
/// feedback it is given.
struct StationAlerts {
    stations: Vec<&'static str>,
    learned: Arc<Mutex<Vec<Feedback>>>,
}

impl Stage for StationAlerts {
    fn name(&self) -> &str {
        "station_alerts"
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        self.learned
            .lock()
            .expect("lock")
            .extend(feedback.iter().cloned());
        Ok(Some(Adjustment {
            stage: "station_alerts".into(),
            from_version: "1".into(),
            to_version: "2".into(),
            description: format!("took {} work order outcomes", feedback.len()),
            params: serde_json::Value::Null,
        }))
    }
}

impl Analyzer for StationAlerts {
    fn analyze(&mut self, _: &GovernedBatch, _: &mut StageContext) -> Result<Vec<Finding>> {
        Ok(Vec::new())
    }

    fn finish(&mut self, ctx: &mut StageContext) -> Result<Vec<Finding>> {
        let round = u64::from(ctx.round());
        let mut findings = Vec::new();
        for station in &self.stations {
            let mut finding = Finding::new(
                FindingKind::Alert,
                "pm25_limit",
                "station_alerts",
                format!("pm25 above the limit at {station}"),
            );
            finding.subject = Some(station.to_string());
            finding.severity = Some(Severity::Error);
            finding.row_ids = vec![round * 10];
            findings.push(finding);
        }
        let mut minor = Finding::new(FindingKind::Alert, "pm10_note", "station_alerts", "minor");
        minor.severity = Some(Severity::Warning);
        findings.push(minor);
        Ok(findings)
    }
}

fn new_order(subject: &str) -> NewWorkOrder {
    NewWorkOrder::new(
        "pm25_limit",
        format!("pm25 high at {subject}"),
        Severity::Error,
    )
    .with_subject(subject)
}

fn store_in(dir: &tempfile::TempDir) -> WorkOrderStore {
    WorkOrderStore::open(dir.path().join("orders").join("orders.jsonl")).expect("open store")
}

#[test]
fn full_life_cycle_persists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_in(&dir);
    let id = store.create(new_order("north")).expect("create").id.clone();
    assert_eq!(id, "wo-000001");
    assert_eq!(store.get(&id).expect("order").state, WorkOrderState::Open);

    store.assign(&id, "team-a", "dispatcher").expect("assign");
    assert_eq!(
        store.get(&id).expect("order").state,
        WorkOrderState::Assigned
    );
    store.assign(&id, "team-b", "dispatcher").expect("reassign");
    assert_eq!(
        store.get(&id).expect("order").assignee.as_deref(),
        Some("team-b")
    );
    store
        .resolve(&id, ResolutionOutcome::Fixed, "cleaned the inlet", "team-b")
        .expect("resolve");
    assert_eq!(
        store.get(&id).expect("order").state,
        WorkOrderState::Resolved
    );
    store.verify(&id, "supervisor").expect("verify");

    let reopened = WorkOrderStore::open(store.path()).expect("reopen store");
    let order = reopened.get(&id).expect("order after reopen");
    assert_eq!(order.state, WorkOrderState::Verified);
    assert_eq!(order.assignee.as_deref(), Some("team-b"));
    let states: Vec<WorkOrderState> = order.history.iter().map(|step| step.to).collect();
    assert_eq!(
        states,
        vec![
            WorkOrderState::Open,
            WorkOrderState::Assigned,
            WorkOrderState::Assigned,
            WorkOrderState::Resolved,
            WorkOrderState::Verified,
        ]
    );
    assert_eq!(order.history[4].by, "supervisor");
    assert_eq!(
        order.resolution.as_ref().expect("resolution").note,
        "cleaned the inlet"
    );
    assert!(!order.created_at().is_empty());
}

#[test]
fn invalid_transitions_name_both_states() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_in(&dir);
    let id = store.create(new_order("north")).expect("create").id.clone();

    let error = store
        .resolve(&id, ResolutionOutcome::Fixed, "", "team-a")
        .expect_err("open cannot be resolved");
    assert!(matches!(
        error,
        WorkOrderError::InvalidTransition {
            from: WorkOrderState::Open,
            to: WorkOrderState::Resolved,
            ..
        }
    ));
    let message = error.to_string();
    assert!(message.contains("from open to resolved"), "{message}");

    let error = store
        .verify(&id, "supervisor")
        .expect_err("open cannot be verified");
    assert!(
        error.to_string().contains("from open to verified"),
        "{error}"
    );

    let error = store
        .reopen(&id, "team-a", "again", "supervisor")
        .expect_err("open cannot be reopened");
    assert!(
        error.to_string().contains("from open to assigned"),
        "{error}"
    );

    store.assign(&id, "team-a", "dispatcher").expect("assign");
    store
        .resolve(&id, ResolutionOutcome::FalseAlarm, "sensor fine", "team-a")
        .expect("resolve");
    store.verify(&id, "supervisor").expect("verify");
    let error = store
        .assign(&id, "team-c", "dispatcher")
        .expect_err("verified is final");
    let message = error.to_string();
    assert!(message.contains("from verified to assigned"), "{message}");
    assert!(message.contains("final"), "{message}");

    // A rejected change leaves the stored order as it was.
    let stored = WorkOrderStore::open(store.path()).expect("reopen store");
    assert_eq!(
        stored.get(&id).expect("order").state,
        WorkOrderState::Verified
    );
}

#[test]
fn unknown_id_and_empty_assignee_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_in(&dir);
    let error = store
        .assign("wo-999999", "team-a", "dispatcher")
        .expect_err("unknown id");
    assert!(matches!(error, WorkOrderError::NotFound { .. }), "{error}");
    assert!(error.to_string().contains("wo-999999"), "{error}");

    let id = store.create(new_order("north")).expect("create").id.clone();
    let error = store
        .assign(&id, " ", "dispatcher")
        .expect_err("empty assignee");
    assert!(error.to_string().contains("assignee is empty"), "{error}");
}

#[test]
fn reopened_order_gives_feedback_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_in(&dir);
    let id = store.create(new_order("north")).expect("create").id.clone();
    store.assign(&id, "team-a", "dispatcher").expect("assign");
    store
        .resolve(&id, ResolutionOutcome::FalseAlarm, "looked fine", "team-a")
        .expect("resolve");

    let first = store.take_feedback().expect("feedback");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].label, Label::Rejected);
    assert_eq!(first[0].source, "team-a");
    assert!(store.take_feedback().expect("feedback").is_empty());

    store
        .reopen(&id, "team-b", "the value came back", "supervisor")
        .expect("reopen");
    assert_eq!(
        store.get(&id).expect("order").state,
        WorkOrderState::Assigned
    );
    assert!(store.take_feedback().expect("feedback").is_empty());
    store
        .resolve(
            &id,
            ResolutionOutcome::Corrected { value: "41".into() },
            "recalibrated",
            "team-b",
        )
        .expect("resolve again");
    let second = store.take_feedback().expect("feedback");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].label, Label::Corrected { value: "41".into() });
    assert_eq!(
        second[0].target,
        FeedbackTarget::WorkOrder { id: id.clone() }
    );

    // The handed-out mark is stored, so a restart does not hand the feedback out twice.
    let mut reopened = WorkOrderStore::open(store.path()).expect("reopen store");
    assert!(reopened.take_feedback().expect("feedback").is_empty());
}

#[test]
fn queries_by_state_assignee_and_subject() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_in(&dir);
    let north = store.create(new_order("north")).expect("create").id.clone();
    let south = store.create(new_order("south")).expect("create").id.clone();
    let east = store.create(new_order("east")).expect("create").id.clone();
    store
        .assign(&north, "team-a", "dispatcher")
        .expect("assign");
    store
        .assign(&south, "team-a", "dispatcher")
        .expect("assign");
    store
        .resolve(&south, ResolutionOutcome::Fixed, "", "team-a")
        .expect("resolve");

    let ids = |orders: Vec<&governance_apply::work_orders::WorkOrder>| {
        orders
            .into_iter()
            .map(|order| order.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.by_state(WorkOrderState::Open)),
        vec![east.clone()]
    );
    assert_eq!(
        ids(store.by_state(WorkOrderState::Resolved)),
        vec![south.clone()]
    );
    assert_eq!(ids(store.by_assignee("team-a")), vec![north.clone(), south]);
    assert!(store.by_assignee("team-z").is_empty());
    assert_eq!(ids(store.by_subject("north")), vec![north]);
}

#[test]
fn chain_raises_orders_and_learns_resolutions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orders.jsonl");
    let learned = Arc::new(Mutex::new(Vec::new()));
    let analyzer = StationAlerts {
        stations: vec!["north", "south"],
        learned: Arc::clone(&learned),
    };
    let applicator = WorkOrderApplicator::new(WorkOrderConfig::new(&path)).expect("applicator");
    let mut chain = Chain::builder()
        .collect(LineCollector::new(LINES, 2))
        .analyze(analyzer)
        .apply(applicator)
        .build()
        .expect("chain");
    chain.run_blocking().expect("round 1");

    let mut store = WorkOrderStore::open(&path).expect("open store");
    // The warning-level finding is below the default minimum severity, error.
    assert_eq!(store.all().count(), 2);
    let north = store.by_subject("north")[0].id.clone();
    let south = store.by_subject("south")[0].id.clone();
    assert_eq!(store.get(&north).expect("order").round, 1);
    assert_eq!(
        store.get(&north).expect("order").analyzer.as_deref(),
        Some("station_alerts")
    );

    // Between rounds a field team resolves the north order.
    store
        .assign(&north, "team-a", "dispatcher")
        .expect("assign");
    store
        .resolve(
            &north,
            ResolutionOutcome::FalseAlarm,
            "sensor fine",
            "team-a",
        )
        .expect("resolve");
    let feedback = store.take_feedback().expect("feedback");
    let adjustments = chain.learn(&feedback).expect("learn");
    assert_eq!(adjustments.len(), 1);
    let taken = learned.lock().expect("lock").clone();
    assert_eq!(taken.len(), 1);
    assert_eq!(
        taken[0].target,
        FeedbackTarget::WorkOrder { id: north.clone() }
    );
    assert_eq!(taken[0].label, Label::Rejected);

    // Round two raises the same findings: north gets a new order because its old one is
    // resolved; south's open order counts another occurrence.
    chain.run_blocking().expect("round 2");
    let store = WorkOrderStore::open(&path).expect("open store");
    assert_eq!(store.all().count(), 3);
    let south_order = store.get(&south).expect("south order");
    assert_eq!(south_order.occurrences, 2);
    assert_eq!(south_order.row_ids, vec![10, 20]);
    let north_orders = store.by_subject("north");
    assert_eq!(north_orders.len(), 2);
    assert_eq!(north_orders[1].state, WorkOrderState::Open);
    assert_eq!(north_orders[1].round, 2);
    // The state changed by hand between rounds survived the applicator's rewrite.
    assert_eq!(
        store.get(&north).expect("north order").state,
        WorkOrderState::Resolved
    );
}

#[test]
fn corrupt_store_line_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orders.jsonl");
    std::fs::write(&path, "{\"id\": \"wo-000001\"}\n").expect("write");
    let error = WorkOrderStore::open(&path).expect_err("corrupt line");
    let message = error.to_string();
    assert!(message.contains("line 1"), "{message}");
    let error = WorkOrderApplicator::new(WorkOrderConfig::new(&path)).expect_err("corrupt store");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the store error must be kept as the source: {error}"
    );
}

#[test]
fn two_handles_keep_both_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = store_in(&dir);
    let mut second = store_in(&dir);

    let north = first.create(new_order("north")).expect("create").id.clone();
    // `second` was opened before `north` existed. Its change rereads the store under the
    // lock, so it neither reuses the id nor drops `north`.
    let south = second
        .create(new_order("south"))
        .expect("create")
        .id
        .clone();
    assert_ne!(north, south);
    second
        .assign(&north, "field-team-1", "dispatcher")
        .expect("assign");

    // `first` still has its snapshot. Its next change reads the assignment made through
    // `second`, so resolving (assigned to resolved) is valid.
    first
        .resolve(&north, ResolutionOutcome::Fixed, "cleaned", "field-team-1")
        .expect("resolve after the other handle's assignment");

    let reread = store_in(&dir);
    assert_eq!(reread.all().count(), 2);
    let north_order = reread.get(&north).expect("north");
    assert_eq!(north_order.state, WorkOrderState::Resolved);
    assert_eq!(north_order.assignee.as_deref(), Some("field-team-1"));
    assert_eq!(
        reread.get(&south).expect("south").state,
        WorkOrderState::Open
    );
}

#[test]
fn concurrent_writers_lose_no_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orders.jsonl");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = WorkOrderStore::open(&path).expect("open");
                for index in 0..15 {
                    store
                        .create(new_order(&format!("station-{writer}-{index}")))
                        .expect("create");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer thread");
    }

    let store = WorkOrderStore::open(&path).expect("open");
    assert_eq!(store.all().count(), 60);
    let ids: std::collections::HashSet<&str> = store.all().map(|order| order.id.as_str()).collect();
    assert_eq!(ids.len(), 60, "every order has its own id");
}

#[test]
fn change_waits_for_held_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orders.jsonl");
    let store = WorkOrderStore::open(&path).expect("open");
    let lock = std::fs::File::create(store.lock_path()).expect("lock file");
    lock.lock().expect("take the lock");

    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut store = WorkOrderStore::open(&path).expect("open");
            store.create(new_order("north")).expect("create").id.clone()
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !path.exists(),
        "the writer must wait while another handle holds the lock"
    );

    lock.unlock().expect("release the lock");
    let id = writer.join().expect("writer thread");
    let reread = WorkOrderStore::open(&path).expect("open");
    assert!(reread.get(&id).is_some(), "{id}");
}
