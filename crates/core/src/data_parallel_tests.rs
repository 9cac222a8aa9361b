//! Two ranks over Gloo on 127.0.0.1, as two threads of this test process (each with its own
//! process group, as two processes would have): a data-parallel step must equal one process's
//! step on the union of the ranks' batches.
use crate::distributed::{Backend, ProcessGroup, Rendezvous, DEFAULT_BUCKET_BYTES};
use crate::error::CoreError;
use crate::model::{Model, ModelOptions};
use crate::spec::ModelSpec;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use tch::{Device, Kind, Tensor};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn rendezvous(rank: i64, world_size: i64, port: u16, timeout: Duration) -> Rendezvous {
    Rendezvous {
        rank,
        world_size,
        host: "127.0.0.1".to_owned(),
        port,
        is_server: rank == 0,
        backend: Backend::Gloo,
        timeout,
        bucket_bytes: DEFAULT_BUCKET_BYTES,
    }
}

/// 128 MNIST-shaped examples drawn from a seeded generator, labels cycling through the classes.
fn examples() -> (Vec<f32>, Vec<i32>) {
    tch::manual_seed(7);
    let pixels = Tensor::rand([128, 1, 28, 28], (Kind::Float, Device::Cpu));
    (Vec::<f32>::try_from(pixels.view([-1])).unwrap(), (0..128).map(|i| i % 10).collect())
}

/// Every parameter's gradient and value after the step, by name.
fn snapshot(model: &Model) -> Vec<(String, Vec<f32>, Vec<f32>)> {
    model
        .parameter_names()
        .into_iter()
        .map(|name| {
            let grad = model.gradient(&name).unwrap().expect("a gradient after the step").values;
            let value = model.parameter(&name).unwrap().values;
            (name, grad, value)
        })
        .collect()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Two steps of two ranks of 64 examples each (rank r with `fast_paths[r]`) against one
/// process's two steps on all 128: every gradient and weight within `tolerance` on both ranks.
/// Two steps, so that the reducer kept from the first serves the second.
fn two_ranks_of_64_step_like_one_process_of_128(fast_paths: [bool; 2], bucket_bytes: i64, tolerance: f32) {
    let (pixels, labels) = examples();
    let per_example = 28 * 28;
    let options = ModelOptions { fast_paths: fast_paths[0], ..ModelOptions::default() };
    let mut alone = Model::new(ModelSpec::seed(), options).unwrap();
    for _ in 0..2 {
        alone.train_step(&pixels, &labels, 128).unwrap();
    }
    let expected = snapshot(&alone);

    let port = free_port();
    let ranks: Vec<_> = (0..2i64)
        .map(|rank| {
            let (pixels, labels) = (pixels.clone(), labels.clone());
            std::thread::spawn(move || {
                // Rank 1 starts from other weights: the broadcast from rank 0 must replace them.
                let options = ModelOptions {
                    seed: 1 + rank * 100,
                    fast_paths: fast_paths[rank as usize],
                    ..ModelOptions::default()
                };
                let mut model = Model::new(ModelSpec::seed(), options).unwrap();
                let meeting = Rendezvous { bucket_bytes, ..rendezvous(rank, 2, port, Duration::from_secs(30)) };
                model.join_group(ProcessGroup::join(&meeting).unwrap()).unwrap();
                let r = rank as usize;
                let shard = &pixels[r * 64 * per_example..(r + 1) * 64 * per_example];
                for _ in 0..2 {
                    model.train_step(shard, &labels[r * 64..(r + 1) * 64], 64).unwrap();
                }
                snapshot(&model)
            })
        })
        .collect();
    for (rank, handle) in ranks.into_iter().enumerate() {
        let got = handle.join().unwrap();
        for ((name, grad, value), (_, want_grad, want_value)) in got.iter().zip(&expected) {
            let (dg, dv) = (max_difference(grad, want_grad), max_difference(value, want_value));
            assert!(dg < tolerance, "rank {rank}: gradient of {name} differs by {dg}");
            assert!(dv < tolerance, "rank {rank}: {name} differs by {dv}");
        }
        // Not vacuous: the steps moved the weights.
        let before = Model::new(ModelSpec::seed(), ModelOptions::default()).unwrap();
        assert!(max_difference(&got[0].2, &before.parameter(&got[0].0).unwrap().values) > 0.0);
    }
}

/// Whether a fast-path CPU batch of 64 is sharded over threads here (it needs two of them).
fn shards_here() -> bool {
    let network = crate::layer::Network::build(&ModelSpec::seed(), Device::Cpu).unwrap();
    let sharded = crate::sharded::shard_count(&network, Device::Cpu, 64) > 1;
    if !sharded {
        eprintln!("skipped: one OpenMP thread here, so no batch is sharded (the sharded path needs two)");
    }
    sharded
}

#[test]
fn two_sharded_ranks_of_64_step_like_one_process_of_128() {
    // The fast paths shard a CPU batch over the threads: the gradients are averaged after the
    // shards are summed.
    if shards_here() {
        two_ranks_of_64_step_like_one_process_of_128([true, true], DEFAULT_BUCKET_BYTES, 1e-6);
    }
}

#[test]
fn two_ranks_of_64_averaging_during_the_backward_pass_step_like_one_process_of_128() {
    // Unsharded: the gradients are averaged while the backward pass runs, here in buckets of
    // one parameter each (1 byte: every parameter closes its bucket), then in one bucket.
    two_ranks_of_64_step_like_one_process_of_128([false, false], 1, 1e-6);
    two_ranks_of_64_step_like_one_process_of_128([false, false], DEFAULT_BUCKET_BYTES, 1e-6);
}

#[test]
fn a_sharded_rank_and_an_unsharded_one_send_matching_buckets() {
    // Ranks with different thread counts take different paths; their collectives must still
    // pair the same parameters (the fast and literal paths agree to float tolerance).
    if shards_here() {
        two_ranks_of_64_step_like_one_process_of_128([true, false], 1, 1e-5);
        two_ranks_of_64_step_like_one_process_of_128([true, false], DEFAULT_BUCKET_BYTES, 1e-5);
    }
}

#[test]
fn every_bucket_is_sent_before_the_backward_pass_ends_and_the_loss_is_the_mean() {
    let (pixels, labels) = examples();
    let port = free_port();
    let ranks: Vec<_> = (0..2i64)
        .map(|rank| {
            let (pixels, labels) = (pixels.clone(), labels.clone());
            std::thread::spawn(move || {
                let options = ModelOptions { fast_paths: false, ..ModelOptions::default() };
                let mut model = Model::new(ModelSpec::seed(), options).unwrap();
                let meeting = Rendezvous { bucket_bytes: 1, ..rendezvous(rank, 2, port, Duration::from_secs(30)) };
                model.join_group(ProcessGroup::join(&meeting).unwrap()).unwrap();
                let r = rank;
                let images = Tensor::from_slice(&pixels).view([128, 1, 28, 28]).narrow(0, r * 64, 64);
                let targets = Tensor::from_slice(&labels).to_kind(Kind::Int64).narrow(0, r * 64, 64);
                let loss = model.network.forward(&images, true).unwrap().cross_entropy_for_logits(&targets);
                let own = loss.double_value(&[]);
                let parameters: Vec<&Tensor> = model.network.parameters.iter().map(|p| &p.tensor).collect();
                let (mean, overlapped) = model.group().unwrap().backward_mean(&loss, &parameters, false).unwrap();
                (own, mean.double_value(&[]), overlapped, parameters.len() as i64)
            })
        })
        .collect();
    let results: Vec<_> = ranks.into_iter().map(|h| h.join().unwrap()).collect();
    let want = (results[0].0 + results[1].0) / 2.0;
    for (rank, (own, mean, overlapped, buckets)) in results.iter().enumerate() {
        // One parameter per bucket, and each bucket sent from its gradient's hook: the first
        // five went out while autograd still had the earlier layers to do.
        assert_eq!(overlapped, buckets, "rank {rank}: {overlapped} of {buckets} buckets sent during the backward pass");
        assert!((mean - want).abs() < 1e-6, "rank {rank}: mean loss {mean}, want {want} (its own {own})");
    }
    assert_ne!(results[0].0, results[1].0, "the ranks' own losses differ (not vacuous)");
}

#[test]
fn small_buckets_broadcast_exactly_as_one_bucket() {
    let port = free_port();
    let ranks: Vec<_> = (0..2i64)
        .map(|rank| {
            std::thread::spawn(move || {
                let group = ProcessGroup::join(&rendezvous(rank, 2, port, Duration::from_secs(30))).unwrap();
                let make = || -> Vec<Tensor> {
                    (0..5).map(|i| Tensor::full([3 + i], (rank * 10 + i) as f64, (Kind::Float, Device::Cpu))).collect()
                };
                let (small, large) = (make(), make());
                // 16-byte buckets split every tensor into its own bucket or more; 1 MiB holds all.
                group.broadcast(&small.iter().collect::<Vec<_>>(), 0, 16).unwrap();
                group.broadcast(&large.iter().collect::<Vec<_>>(), 0, 1 << 20).unwrap();
                (small, large)
            })
        })
        .collect();
    for handle in ranks {
        let (small, large) = handle.join().unwrap();
        for (i, (s, l)) in small.iter().zip(&large).enumerate() {
            assert!(s.equal(l), "tensor {i}");
            // Rank 0's values on both ranks, in each tensor's own place.
            assert_eq!(s.size(), [3 + i as i64]);
            assert_eq!(s.double_value(&[0]), i as f64);
        }
    }
}

#[test]
fn a_rank_whose_peer_never_comes_fails_within_the_timeout_naming_itself() {
    let started = Instant::now();
    let error = ProcessGroup::join(&rendezvous(0, 2, free_port(), Duration::from_secs(2))).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_eq!(error.code(), "CONVTORCH_DISTRIBUTED");
    assert!(error.to_string().starts_with("distributed (rank 0 of 2)"), "{error}");
}

#[test]
fn a_store_port_in_use_is_a_distributed_error_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = ProcessGroup::join(&rendezvous(0, 1, port, Duration::from_secs(2))).unwrap_err();
    assert!(matches!(error, CoreError::Distributed { rank: 0, .. }), "{error}");
    assert!(error.to_string().contains(&format!("cannot host the store at 127.0.0.1:{port}")), "{error}");
}

#[test]
fn ranks_sharing_an_evaluation_each_get_the_whole_datasets() {
    // 601 examples in batches of 100: rank 0 evaluates batches 0-3, rank 1 batches 4-6; with
    // 150, one batch of 256 for rank 0 and nothing for rank 1.
    for (count, batch) in [(601usize, 100i64), (150, 256)] {
        let data = crate::dataset::grey_test_dataset(count, 7, 1);
        // Rank 0's weights, which the group takes.
        let alone = Model::new(ModelSpec::seed(), ModelOptions { seed: 1, ..ModelOptions::default() }).unwrap();
        let alone = alone.evaluate(&data, batch).unwrap();
        let port = free_port();
        let ranks: Vec<_> = (0..2i64)
            .map(|rank| {
                std::thread::spawn(move || {
                    let data = crate::dataset::grey_test_dataset(count, 7, 1);
                    let options = ModelOptions { seed: 1 + rank * 100, ..ModelOptions::default() };
                    let mut model = Model::new(ModelSpec::seed(), options).unwrap();
                    model
                        .join_group(ProcessGroup::join(&rendezvous(rank, 2, port, Duration::from_secs(30))).unwrap())
                        .unwrap();
                    model.evaluate_across_ranks(&data, batch).unwrap()
                })
            })
            .collect();
        for (rank, handle) in ranks.into_iter().enumerate() {
            let shared = handle.join().unwrap();
            assert_eq!(shared.predictions, alone.predictions, "rank {rank}, {count} examples");
            assert_eq!((shared.correct, shared.count), (alone.correct, alone.count), "rank {rank}");
            let tolerance = 1e-9 * alone.loss_sum.abs();
            assert!(
                (shared.loss_sum - alone.loss_sum).abs() <= tolerance,
                "rank {rank}: {} vs {}",
                shared.loss_sum,
                alone.loss_sum
            );
        }
    }
}
