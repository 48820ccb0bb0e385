//! Cycles of the wait-for graph: [`Deadlock`].
//!
//! A task waiting on a resource has an edge to each recorded holder of it. Each elementary
//! cycle is found once, from its smallest task id, by a depth-first search that only
//! visits larger ids; the search is bounded (`MAX_STEPS`), so a pathological graph gives
//! a partial list rather than a hang.

use std::collections::HashMap;
use std::fmt;

use super::TaskInfo;
use crate::task::TaskId;

const MAX_STEPS: usize = 1 << 20;

/// A cycle of tasks each waiting on a resource held by the next, from
/// [`Dump::deadlocks`](super::Dump::deadlocks) or the `Builder::on_deadlock` watchdog.
///
/// `Display` names every task (id, name, spawn location) and the resource (kind, label)
/// each waits on.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// for d in rt.handle().dump().deadlocks() {
///     eprintln!("{d}: {} tasks", d.tasks().len());
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Deadlock {
    pub(crate) tasks: Vec<TaskId>,
    pub(crate) members: Vec<TaskInfo>,
}

impl Deadlock {
    /// The tasks of the cycle, in wait order (each waits on the next, the last on the
    /// first), starting from the smallest id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// assert!(rt.handle().dump().deadlocks().iter().all(|d| d.tasks().len() >= 1));
    /// ```
    pub fn tasks(&self) -> &[TaskId] {
        &self.tasks
    }

    /// The cycle with each member's poll count: equal keys mean nothing in the cycle
    /// moved (used by the watchdog).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn key(&self) -> Vec<(TaskId, u64)> {
        self.members.iter().map(|m| (m.id, m.polls)).collect()
    }
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "deadlock: {} tasks wait on each other",
            self.members.len()
        )?;
        let n = self.members.len();
        for (i, m) in self.members.iter().enumerate() {
            let next = self.members[(i + 1) % n].id;
            write!(f, "  task {}", m.id)?;
            if let Some(name) = &m.name {
                write!(f, " \"{name}\"")?;
            }
            write!(f, " (spawned at {})", m.spawned_at)?;
            match &m.waiting_on {
                Some(w) => {
                    write!(f, " waits on {}", w.kind)?;
                    if let Some(label) = w.label {
                        write!(f, " \"{label}\"")?;
                    }
                }
                None => f.write_str(" waits")?,
            }
            write!(f, " held by task {next}")?;
            if i + 1 < n {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// Every cycle among `tasks` (bounded, see the module docs).
pub(crate) fn cycles(tasks: &[TaskInfo]) -> Vec<Deadlock> {
    let index: HashMap<TaskId, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let edges = |i: usize| -> Vec<usize> {
        match &tasks[i].waiting_on {
            Some(w) => w
                .holders
                .iter()
                .filter_map(|h| index.get(h).copied())
                .collect(),
            None => Vec::new(),
        }
    };
    let mut starts: Vec<usize> = (0..tasks.len())
        .filter(|&i| {
            tasks[i]
                .waiting_on
                .as_ref()
                .is_some_and(|w| !w.holders.is_empty())
        })
        .collect();
    starts.sort_by_key(|&i| tasks[i].id);
    let mut found = Vec::new();
    let mut steps = 0usize;
    for &s in &starts {
        let min = tasks[s].id;
        // Depth-first over simple paths from `s` through larger ids.
        let mut path = vec![s];
        let mut stack = vec![edges(s)];
        while let Some(next) = stack.last_mut() {
            steps += 1;
            if steps > MAX_STEPS {
                return found;
            }
            match next.pop() {
                Some(j) if j == s => {
                    found.push(Deadlock {
                        tasks: path.iter().map(|&k| tasks[k].id).collect(),
                        members: path.iter().map(|&k| tasks[k].clone()).collect(),
                    });
                }
                Some(j) if tasks[j].id > min && !path.contains(&j) => {
                    path.push(j);
                    stack.push(edges(j));
                }
                Some(_) => {}
                None => {
                    stack.pop();
                    path.pop();
                }
            }
        }
    }
    found
}
