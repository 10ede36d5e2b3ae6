//! Model-based test of the unsafe chain code: random sequences of building,
//! appending, popping, packaging, ordered insertion, splitting and freeing,
//! checked against a plain `Vec` model after every step, with a counting pool
//! proving every event and buffer comes back exactly once.
#![allow(missing_docs)] // Test crate.

mod common;

use common::{Pool, pool};
use dmus_sys::dmusic::DMUS_KEF;
use mxf::{Chain, EventRef};
use proptest::prelude::*;

/// A model event: its time and a tag that also fixes its data length.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Event { time: i64, tag: u8, len: usize },
    Package { time: i64, contents: Vec<Item> },
}

impl Item {
    fn time(&self) -> i64 {
        match self {
            Self::Event { time, .. } | Self::Package { time, .. } => *time,
        }
    }
}

fn describe(event: EventRef<'_>) -> Item {
    if event.is_package() {
        Item::Package {
            time: event.time(),
            contents: event.package().map(describe).collect(),
        }
    } else {
        let data = event.data();
        assert!(data.iter().all(|&b| b == data[0]), "data corrupted");
        Item::Event {
            time: event.time(),
            tag: data.first().copied().unwrap_or(0),
            len: data.len(),
        }
    }
}

fn describe_chain(chain: &Chain) -> Vec<Item> {
    chain.iter().map(describe).collect()
}

#[derive(Clone, Debug)]
enum Op {
    New { time: i64, tag: u8, len: usize },
    Append { to: usize, from: usize },
    PopFront { from: usize },
    Package { which: usize, time: i64 },
    OpenPackage { which: usize },
    Enqueue { from: usize },
    SplitDue { now: i64 },
    Free { which: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..20, 1u8..0x7F, 1usize..=16).prop_map(|(time, tag, len)| Op::New { time, tag, len }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(to, from)| Op::Append { to, from }),
        1 => any::<usize>().prop_map(|from| Op::PopFront { from }),
        1 => (any::<usize>(), 0i64..20).prop_map(|(which, time)| Op::Package { which, time }),
        1 => any::<usize>().prop_map(|which| Op::OpenPackage { which }),
        2 => any::<usize>().prop_map(|from| Op::Enqueue { from }),
        1 => (0i64..25).prop_map(|now| Op::SplitDue { now }),
        1 => any::<usize>().prop_map(|which| Op::Free { which }),
    ]
}

struct World {
    pool: Pool,
    chains: Vec<Chain>,
    model: Vec<Vec<Item>>,
    queue: Chain,
    queue_model: Vec<Item>,
}

impl World {
    fn pick(&self, n: usize) -> Option<usize> {
        (!self.chains.is_empty()).then(|| n % self.chains.len())
    }

    fn take(&mut self, i: usize) -> (Chain, Vec<Item>) {
        (self.chains.swap_remove(i), self.model.swap_remove(i))
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::New { time, tag, len } => {
                let data = vec![tag; len];
                let chain =
                    Chain::event(&mut self.pool, time, 1, DMUS_KEF::EVENT_COMPLETE, &data).unwrap();
                self.chains.push(chain);
                self.model.push(vec![Item::Event { time, tag, len }]);
            }
            Op::Append { to, from } => {
                let (Some(to), Some(from)) = (self.pick(to), self.pick(from)) else {
                    return;
                };
                if to == from {
                    return;
                }
                let (chain, items) = self.take(from);
                let to = if to == self.chains.len() { from } else { to };
                self.chains[to].push_back(chain);
                self.model[to].extend(items);
            }
            Op::PopFront { from } => {
                let Some(i) = self.pick(from) else { return };
                let first = self.chains[i].pop_front();
                if self.model[i].is_empty() {
                    assert!(first.is_empty());
                    return;
                }
                let item = self.model[i].remove(0);
                self.chains.push(first);
                self.model.push(vec![item]);
            }
            Op::Package { which, time } => {
                let Some(i) = self.pick(which) else { return };
                let (contents, items) = self.take(i);
                let package = Chain::package(&mut self.pool, time, 1, contents).unwrap();
                self.chains.push(package);
                self.model.push(vec![Item::Package {
                    time,
                    contents: items,
                }]);
            }
            Op::OpenPackage { which } => {
                let Some(i) = self.pick(which) else { return };
                let opened = self.chains[i].open_front_package(&mut self.pool);
                let is_package = matches!(self.model[i].first(), Some(Item::Package { .. }));
                assert_eq!(opened, is_package);
                if let Some(Item::Package { contents, .. }) =
                    is_package.then(|| self.model[i].remove(0))
                {
                    self.model[i].splice(0..0, contents);
                }
            }
            Op::Enqueue { from } => {
                let Some(i) = self.pick(from) else { return };
                let (chain, items) = self.take(i);
                self.queue.insert_by_time(chain);
                for item in items {
                    let at = self
                        .queue_model
                        .partition_point(|q| q.time() <= item.time());
                    self.queue_model.insert(at, item);
                }
            }
            Op::SplitDue { now } => {
                let due = self.queue.split_due(now);
                let at = self.queue_model.partition_point(|q| q.time() <= now);
                let items: Vec<Item> = self.queue_model.drain(..at).collect();
                self.chains.push(due);
                self.model.push(items);
            }
            Op::Free { which } => {
                let Some(i) = self.pick(which) else { return };
                let (chain, _) = self.take(i);
                chain.free(&mut self.pool);
            }
        }
    }

    fn check(&self) {
        for (chain, items) in self.chains.iter().zip(&self.model) {
            assert_eq!(&describe_chain(chain), items);
            assert_eq!(chain.len(), items.len());
            assert_eq!(chain.front_time(), items.first().map(Item::time));
            assert_eq!(chain.back_time(), items.last().map(Item::time));
        }
        assert_eq!(describe_chain(&self.queue), self.queue_model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn chains_match_the_model_and_give_everything_back(ops in prop::collection::vec(op(), 0..80)) {
        let mut world = World {
            pool: pool(1024, 512, 16),
            chains: Vec::new(),
            model: Vec::new(),
            queue: Chain::new(),
            queue_model: Vec::new(),
        };
        for op in ops {
            world.apply(&op);
            world.check();
        }
        let World { mut pool, chains, queue, .. } = world;
        for chain in chains {
            chain.free(&mut pool);
        }
        queue.free(&mut pool);
        prop_assert!(pool.check().is_ok(), "{:?}", pool.check());
    }
}
