//! The event queue: a binary heap ordered by (virtual time, sequence number), so two
//! events at the same millisecond always come out in the order they were pushed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<T> {
    time: u64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    /// Reversed, so that the max-heap pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Events waiting for their virtual time.
pub(crate) struct Queue<T> {
    heap: BinaryHeap<Entry<T>>,
    seq: u64,
}

impl<T> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Schedules `item` at virtual time `time`.
    pub(crate) fn push(&mut self, time: u64, item: T) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            item,
        });
    }

    /// The earliest event, with its time.
    pub(crate) fn pop(&mut self) -> Option<(u64, T)> {
        self.heap.pop().map(|e| (e.time, e.item))
    }

    /// Number of waiting events.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_then_in_push_order() {
        let mut q = Queue::new();
        q.push(10, "c");
        q.push(5, "a");
        q.push(10, "d");
        q.push(5, "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(5, "a"), (5, "b"), (10, "c"), (10, "d")]);
        assert_eq!(q.len(), 0);
    }
}
