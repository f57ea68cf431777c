//! [`WorkOrderStore`]: work orders in a JSON Lines file, rewritten atomically on each change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use governance_core::Feedback;

use super::{
    NewWorkOrder, Resolution, ResolutionOutcome, Transition, WorkOrder, WorkOrderError,
    WorkOrderState,
};
use crate::output::write_atomically;

/// Work orders kept in one JSON Lines file, one order per line, ordered by id.
///
/// Every change writes the whole file to a temporary file in the same folder, syncs it and
/// renames it over the old one, so a crash leaves either the old or the new file, never half
/// of one. The store is meant for thousands of orders, not millions.
///
/// # Several writers
///
/// Every change takes an exclusive advisory lock on a lock file beside the store, named by
/// [`WorkOrderStore::lock_path`]. Under the lock it rereads the store, applies the change to
/// what it read and writes the file, and only then releases the lock. So two handles, in
/// one process or in two, never lose each other's changes, and a change is checked against
/// the latest state of its order. A writer waits while another has the lock. The lock is
/// `std::fs::File::lock` (`flock` on Unix, `LockFileEx` on Windows), which binds only
/// writers that take it.
///
/// NOTE: advisory locks may not exclude writers on other machines of a network file system;
/// keep the store on a local disk when several machines write it.
///
/// Reads (`get`, `all`, `by_state`) return the orders as of the handle's last open, change
/// or [`WorkOrderStore::reload`].
#[derive(Debug)]
pub struct WorkOrderStore {
    path: PathBuf,
    orders: BTreeMap<String, WorkOrder>,
    next_number: u64,
}

impl WorkOrderStore {
    /// Opens the store at `path`, reading its orders; a missing file is an empty store. Its
    /// folder is created on the first change.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, WorkOrderError> {
        let path = path.into();
        let (orders, next_number) = read_orders(&path)?;
        Ok(WorkOrderStore {
            path,
            orders,
            next_number,
        })
    }

    /// Rereads the orders from the file in place of what this handle read before, so that
    /// it returns changes made through other handles.
    pub fn reload(&mut self) -> Result<(), WorkOrderError> {
        let (orders, next_number) = read_orders(&self.path)?;
        self.orders = orders;
        self.next_number = next_number;
        Ok(())
    }

    /// Returns the lock file that changes take: the store's path with `.lock` appended.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the store's lock, waiting for another holder, rereads the store and runs
    /// `change`, which saves what it changed. The lock is released on return.
    pub(super) fn locked<T>(
        &mut self,
        change: impl FnOnce(&mut Self) -> Result<T, WorkOrderError>,
    ) -> Result<T, WorkOrderError> {
        let lock_path = self.lock_path();
        let storage = |source| WorkOrderError::Storage {
            store: self.path.display().to_string(),
            source,
        };
        self.create_folder()?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|error| storage(governance_core::Error::io(&lock_path, error)))?;
        lock.lock()
            .map_err(|error| storage(governance_core::Error::io(&lock_path, error)))?;
        let result = self.reload().and_then(|()| change(self));
        // Closing the file also releases the lock, but an explicit unlock reports a failure.
        if let Err(error) = lock.unlock() {
            tracing::warn!(lock = %lock_path.display(), error = %error, "failed to release the work order store lock; it is released when the file closes");
        }
        result
    }
}

/// Reads the orders of the store file at `path` and the next free id number. A missing
/// file has no orders.
fn read_orders(path: &Path) -> Result<(BTreeMap<String, WorkOrder>, u64), WorkOrderError> {
    let path = path.to_path_buf();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(WorkOrderError::Storage {
                store: path.display().to_string(),
                source: governance_core::Error::io(&path, error),
            });
        }
    };
    let mut orders = BTreeMap::new();
    let mut next_number = 1;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let order: WorkOrder =
            serde_json::from_str(line).map_err(|error| WorkOrderError::Corrupt {
                store: path.display().to_string(),
                line: index + 1,
                message: error.to_string(),
            })?;
        if let Some(number) = order
            .id
            .strip_prefix("wo-")
            .and_then(|digits| digits.parse::<u64>().ok())
        {
            next_number = next_number.max(number + 1);
        }
        orders.insert(order.id.clone(), order);
    }
    Ok((orders, next_number))
}

impl WorkOrderStore {
    /// Returns the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the order with `id`.
    pub fn get(&self, id: &str) -> Option<&WorkOrder> {
        self.orders.get(id)
    }

    /// Returns every order, ordered by id.
    pub fn all(&self) -> impl Iterator<Item = &WorkOrder> {
        self.orders.values()
    }

    /// Returns the orders in `state`.
    pub fn by_state(&self, state: WorkOrderState) -> Vec<&WorkOrder> {
        self.all().filter(|order| order.state == state).collect()
    }

    /// Returns the orders assigned to `assignee`, in any state.
    pub fn by_assignee(&self, assignee: &str) -> Vec<&WorkOrder> {
        self.all()
            .filter(|order| order.assignee.as_deref() == Some(assignee))
            .collect()
    }

    /// Returns the orders about `subject`, such as a station id.
    pub fn by_subject(&self, subject: &str) -> Vec<&WorkOrder> {
        self.all()
            .filter(|order| order.subject.as_deref() == Some(subject))
            .collect()
    }

    /// Returns the open or assigned order for `finding` on `subject`, if any.
    pub fn active_for(&self, finding: &str, subject: Option<&str>) -> Option<&WorkOrder> {
        self.all().find(|order| {
            order.state.is_active()
                && order.finding == finding
                && order.subject.as_deref() == subject
        })
    }

    /// Creates an open order and saves the store.
    pub fn create(&mut self, new: NewWorkOrder) -> Result<&WorkOrder, WorkOrderError> {
        let id = self.locked(|store| {
            let id = store.insert(new)?;
            if let Err(error) = store.save() {
                store.orders.remove(&id);
                return Err(error);
            }
            Ok(id)
        })?;
        self.order(&id)
    }

    /// Assigns the order to `assignee`: open to assigned, or a reassignment of an assigned
    /// order. `by` is who made the change.
    pub fn assign(
        &mut self,
        id: &str,
        assignee: &str,
        by: &str,
    ) -> Result<&WorkOrder, WorkOrderError> {
        require("assignee", assignee)?;
        self.change(id, WorkOrderState::Assigned, by, "", |order| {
            order.assignee = Some(assignee.to_string());
        })
    }

    /// Resolves an assigned order with `outcome`; its feedback becomes available to
    /// [`WorkOrderStore::take_feedback`].
    pub fn resolve(
        &mut self,
        id: &str,
        outcome: ResolutionOutcome,
        note: &str,
        by: &str,
    ) -> Result<&WorkOrder, WorkOrderError> {
        let resolution = Resolution {
            outcome,
            note: note.to_string(),
            resolved_by: by.to_string(),
            resolved_at: now_rfc3339(),
        };
        self.change(id, WorkOrderState::Resolved, by, note, |order| {
            order.resolution = Some(resolution);
            order.feedback_taken = false;
        })
    }

    /// Confirms the resolution of a resolved order. `by` should be someone other than the
    /// resolver, but the store does not enforce it.
    pub fn verify(&mut self, id: &str, by: &str) -> Result<&WorkOrder, WorkOrderError> {
        self.change(id, WorkOrderState::Verified, by, "", |_| {})
    }

    /// Reopens a resolved order whose resolution did not hold, assigning it to `assignee`.
    pub fn reopen(
        &mut self,
        id: &str,
        assignee: &str,
        note: &str,
        by: &str,
    ) -> Result<&WorkOrder, WorkOrderError> {
        require("assignee", assignee)?;
        require("by", by)?;
        self.locked(|store| {
            let from = store.order(id)?.state;
            if from != WorkOrderState::Resolved {
                return Err(WorkOrderError::InvalidTransition {
                    id: id.to_string(),
                    from,
                    to: WorkOrderState::Assigned,
                });
            }
            store.change_unlocked(id, WorkOrderState::Assigned, by, note, |order| {
                order.assignee = Some(assignee.to_string());
            })
        })?;
        self.order(id)
    }

    /// Returns the feedback of every resolution not handed out before, and marks it handed
    /// out, so that each resolution reaches [`Chain::learn`](governance_core::Chain::learn)
    /// once. A reopened and again resolved order gives feedback again.
    pub fn take_feedback(&mut self) -> Result<Vec<Feedback>, WorkOrderError> {
        self.locked(|store| {
            let mut feedback = Vec::new();
            for order in store.orders.values_mut() {
                if order.feedback_taken {
                    continue;
                }
                if let Some(item) = order.feedback() {
                    feedback.push(item);
                    order.feedback_taken = true;
                }
            }
            if !feedback.is_empty() {
                store.save()?;
            }
            Ok(feedback)
        })
    }

    /// Adds an order without saving; returns its id.
    pub(super) fn insert(&mut self, new: NewWorkOrder) -> Result<String, WorkOrderError> {
        require("finding", &new.finding)?;
        require("title", &new.title)?;
        require("created_by", &new.created_by)?;
        let id = format!("wo-{:06}", self.next_number);
        self.next_number += 1;
        let order = WorkOrder {
            id: id.clone(),
            finding: new.finding,
            title: new.title,
            subject: new.subject,
            severity: new.severity,
            analyzer: new.analyzer,
            round: new.round,
            row_ids: new.row_ids,
            state: WorkOrderState::Open,
            assignee: None,
            resolution: None,
            occurrences: 1,
            history: vec![Transition {
                from: None,
                to: WorkOrderState::Open,
                by: new.created_by,
                at: now_rfc3339(),
                note: String::new(),
            }],
            feedback_taken: false,
        };
        self.orders.insert(id.clone(), order);
        Ok(id)
    }

    /// Counts one more occurrence of an active order's finding, without saving.
    pub(super) fn record_occurrence(&mut self, id: &str, row_ids: &[u64]) {
        if let Some(order) = self.orders.get_mut(id) {
            order.occurrences += 1;
            for row_id in row_ids {
                if !order.row_ids.contains(row_id) {
                    order.row_ids.push(*row_id);
                }
            }
        }
    }

    fn create_folder(&self) -> Result<(), WorkOrderError> {
        if let Some(folder) = self
            .path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|error| WorkOrderError::Storage {
                store: self.path.display().to_string(),
                source: governance_core::Error::io(folder, error),
            })?;
        }
        Ok(())
    }

    /// Writes every order to the file atomically. Callers hold the lock (see
    /// [`WorkOrderStore::locked`]).
    pub(super) fn save(&self) -> Result<(), WorkOrderError> {
        let storage = |source| WorkOrderError::Storage {
            store: self.path.display().to_string(),
            source,
        };
        let mut text = Vec::new();
        for order in self.orders.values() {
            let line = serde_json::to_vec(order).map_err(|error| {
                storage(governance_core::Error::Internal(format!(
                    "cannot serialize work order {}: {error}",
                    order.id
                )))
            })?;
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        self.create_folder()?;
        write_atomically(&self.path, &text).map_err(storage)
    }

    fn order(&self, id: &str) -> Result<&WorkOrder, WorkOrderError> {
        self.orders.get(id).ok_or_else(|| WorkOrderError::NotFound {
            id: id.to_string(),
            store: self.path.display().to_string(),
        })
    }

    /// Moves an order to `to` after checking the life cycle against the stored state,
    /// applies `update`, records the transition and saves, all under the store's lock.
    /// Nothing changes when the transition is invalid or saving fails.
    fn change(
        &mut self,
        id: &str,
        to: WorkOrderState,
        by: &str,
        note: &str,
        update: impl FnOnce(&mut WorkOrder),
    ) -> Result<&WorkOrder, WorkOrderError> {
        require("by", by)?;
        self.locked(|store| store.change_unlocked(id, to, by, note, update))?;
        self.order(id)
    }

    fn change_unlocked(
        &mut self,
        id: &str,
        to: WorkOrderState,
        by: &str,
        note: &str,
        update: impl FnOnce(&mut WorkOrder),
    ) -> Result<(), WorkOrderError> {
        let from = self.order(id)?.state;
        if !from.can_move_to(to) {
            return Err(WorkOrderError::InvalidTransition {
                id: id.to_string(),
                from,
                to,
            });
        }
        let before = self.order(id)?.clone();
        if let Some(order) = self.orders.get_mut(id) {
            update(order);
            order.state = to;
            order.history.push(Transition {
                from: Some(from),
                to,
                by: by.to_string(),
                at: now_rfc3339(),
                note: note.to_string(),
            });
        }
        if let Err(error) = self.save() {
            self.orders.insert(id.to_string(), before);
            return Err(error);
        }
        Ok(())
    }
}

fn require(field: &str, value: &str) -> Result<(), WorkOrderError> {
    if value.trim().is_empty() {
        return Err(WorkOrderError::Invalid(format!(
            "{field} is empty; name the person, team or value"
        )));
    }
    Ok(())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
