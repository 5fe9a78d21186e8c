//! Tokio peer for the asyncio-cpp benchmarks, on a current-thread runtime.
//!
//! Usage: tokio_bench W1 N [D] | W2g N | W2w N | W3 N | W4 N | W5 TASKS ITERS | W6t N | W6s N
//! Prints exactly one line on stdout:
//!   RESULT impl=tokio workload=<W> n=<N> wall_s=<f> rss_kb=<i> ns_per_op=<f>
//! For W5, n = TASKS*ITERS (one op = one locked increment); for W4 one op is
//! one round trip; for W6t one op is one spawn_blocking round trip; for W6s one
//! op is one task spawned from another thread. A failed self-check prints on
//! stderr and exits with status 1.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

fn die(msg: String) -> ! {
    eprintln!("self-check failed: {}", msg);
    std::process::exit(1);
}

/// Per-index pseudo-random delay in milliseconds, in [0, 1000).
fn lcg_delay_ms(i: u64) -> u64 {
    let x = (i.wrapping_mul(2654435761).wrapping_add(12345)) & 0xFFFF_FFFF;
    x % 1000
}

fn expected_w2(n: u64) -> u64 {
    (0..n).filter(|&i| lcg_delay_ms(i) > 400).count() as u64
}

/// Sleeps its delay and fails (returns Err) when delay > 0.4 s.
async fn w2_worker(i: u64) -> Result<u64, String> {
    let ms = lcg_delay_ms(i);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    if ms > 400 {
        Err(format!("worker {} failed", i))
    } else {
        Ok(i)
    }
}

/// W1: spawn N sleepers, then await every JoinHandle (gather).
async fn w1(n: u64, d: f64) -> Duration {
    let dur = Duration::from_secs_f64(d);
    let t0 = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|_| tokio::spawn(async move { tokio::time::sleep(dur).await }))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    t0.elapsed()
}

/// W2g: gather(return_exceptions=True) = await every JoinHandle and keep
/// each Result (Ok or Err) in order.
async fn w2g(n: u64) -> Duration {
    let t0 = Instant::now();
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(w2_worker(i))).collect();
    let mut results = Vec::with_capacity(n as usize);
    for h in handles {
        results.push(h.await.unwrap());
    }
    let wall = t0.elapsed();
    let fails = results.iter().filter(|r| r.is_err()).count() as u64;
    for (i, r) in results.iter().enumerate() {
        if let Ok(v) = r {
            if *v != i as u64 {
                die(format!("W2g value {} at {}", v, i));
            }
        }
    }
    if fails != expected_w2(n) {
        die(format!("W2g fails={}", fails));
    }
    wall
}

/// W2w: wait(FIRST_EXCEPTION) = JoinSet::join_next in completion order until
/// the first Err; then (no cancellation) drain the rest.
async fn w2w(n: u64) -> Duration {
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..n {
        set.spawn(w2_worker(i));
    }
    let mut fails = 0u64;
    let mut first_seen = false;
    while let Some(r) = set.join_next().await {
        if r.unwrap().is_err() {
            fails += 1;
            first_seen = true;
        }
    }
    let wall = t0.elapsed();
    if !first_seen || fails != expected_w2(n) {
        die(format!("W2w fails={}", fails));
    }
    wall
}

/// W3: spawn trivial tasks in batches of 1,000, await each batch, sum.
async fn w3(n: u64) -> Duration {
    const BATCH: u64 = 1000;
    let mut total: u64 = 0;
    let mut handles = Vec::with_capacity(BATCH as usize);
    let t0 = Instant::now();
    let mut b = 0;
    while b < n {
        let end = std::cmp::min(b + BATCH, n);
        for i in b..end {
            handles.push(tokio::spawn(async move { i }));
        }
        for h in handles.drain(..) {
            total += h.await.unwrap();
        }
        b = end;
    }
    let wall = t0.elapsed();
    if total != n * (n - 1) / 2 {
        die(format!("W3 sum={}", total));
    }
    wall
}

/// W4: ping-pong through two mpsc channels of capacity 1.
async fn w4(n: u64) -> Duration {
    let (tx1, mut rx1) = tokio::sync::mpsc::channel::<u64>(1);
    let (tx2, mut rx2) = tokio::sync::mpsc::channel::<u64>(1);
    let t0 = Instant::now();
    let pong = tokio::spawn(async move {
        for _ in 0..n {
            let v = rx1.recv().await.unwrap();
            tx2.send(v + 1).await.unwrap();
        }
    });
    for i in 0..n {
        tx1.send(i).await.unwrap();
        let v = rx2.recv().await.unwrap();
        if v != i + 1 {
            die(format!("W4 got {} want {}", v, i + 1));
        }
    }
    pong.await.unwrap();
    t0.elapsed()
}

/// W5: TASKS tasks increment a shared counter ITERS times each under one
/// tokio::sync::Mutex, with yield_now() inside the critical section.
async fn w5(tasks: u64, iters: u64) -> Duration {
    let counter = Arc::new(tokio::sync::Mutex::new(0u64));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let c = counter.clone();
            tokio::spawn(async move {
                for _ in 0..iters {
                    let mut g = c.lock().await;
                    let v = *g;
                    tokio::task::yield_now().await;
                    *g = v + 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let wall = t0.elapsed();
    let v = *counter.lock().await;
    if v != tasks * iters {
        die(format!("W5 counter={}", v));
    }
    wall
}

/// W6t: N sequential spawn_blocking round trips of i + 1 through the
/// runtime's blocking pool (the counterpart of to_thread on the default
/// executor); sum checked.
async fn w6t(n: u64) -> Duration {
    // Start a blocking-pool thread before timing.
    tokio::task::spawn_blocking(|| 1u64).await.unwrap();
    let mut total: u64 = 0;
    let t0 = Instant::now();
    for i in 0..n {
        total += tokio::task::spawn_blocking(move || i + 1).await.unwrap();
    }
    let wall = t0.elapsed();
    if total != n * (n + 1) / 2 {
        die(format!("W6t sum={}", total));
    }
    wall
}

/// W6s: the counterpart of call_soon_threadsafe: a std::thread holding the
/// runtime's Handle spawns N tasks onto it; each adds one to a shared counter
/// and the one that reaches N wakes the main task through a Notify. Timed from
/// before starting the thread to the last task done.
async fn w6s(n: u64) -> Duration {
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(tokio::sync::Notify::new());
    let handle = tokio::runtime::Handle::current();
    let t0 = Instant::now();
    let poster = {
        let counter = counter.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            for _ in 0..n {
                let counter = counter.clone();
                let done = done.clone();
                handle.spawn(async move {
                    if counter.fetch_add(1, Ordering::Relaxed) + 1 == n {
                        done.notify_one();
                    }
                });
            }
        })
    };
    // notify_one stores a permit if the main task is not waiting yet.
    done.notified().await;
    let wall = t0.elapsed();
    poster.join().unwrap();
    let v = counter.load(Ordering::Relaxed);
    if v != n {
        die(format!("W6s counter={}", v));
    }
    wall
}

fn usage() -> ! {
    eprintln!("usage: tokio_bench W1 N [D] | W2g N | W2w N | W3 N | W4 N | W5 TASKS ITERS | W6t N | W6s N");
    std::process::exit(2);
}

fn arg_u64(args: &[String], k: usize, def: Option<u64>) -> u64 {
    match args.get(k) {
        Some(s) => s.parse().unwrap_or_else(|_| usage()),
        None => def.unwrap_or_else(|| usage()),
    }
}

extern "C" {
    fn getrusage(who: i32, usage: *mut i64) -> i32;
}

/// getrusage(RUSAGE_SELF).ru_maxrss in kB, without the libc crate. struct
/// rusage on 64-bit Linux: two struct timeval (4 x i64) then 14 longs, the
/// first of which is ru_maxrss; 18 x i64 in all.
fn max_rss_kb() -> i64 {
    let mut ru = [0i64; 18];
    let rc = unsafe { getrusage(0 /* RUSAGE_SELF */, ru.as_mut_ptr()) };
    if rc == 0 {
        ru[4]
    } else {
        -1
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() < 2 {
        usage();
    }
    let w = argv[1].clone();
    let args = &argv[2..];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (n, wall) = match w.as_str() {
        "W1" => {
            let n = arg_u64(args, 0, None);
            let d: f64 = args.get(1).map(|s| s.parse().unwrap_or_else(|_| usage())).unwrap_or(1.0);
            (n, rt.block_on(w1(n, d)))
        }
        "W2g" => {
            let n = arg_u64(args, 0, Some(100_000));
            (n, rt.block_on(w2g(n)))
        }
        "W2w" => {
            let n = arg_u64(args, 0, Some(100_000));
            (n, rt.block_on(w2w(n)))
        }
        "W3" => {
            let n = arg_u64(args, 0, None);
            (n, rt.block_on(w3(n)))
        }
        "W4" => {
            let n = arg_u64(args, 0, None);
            (n, rt.block_on(w4(n)))
        }
        "W5" => {
            let t = arg_u64(args, 0, Some(1000));
            let it = arg_u64(args, 1, Some(100));
            (t * it, rt.block_on(w5(t, it)))
        }
        "W6t" => {
            let n = arg_u64(args, 0, Some(100_000));
            (n, rt.block_on(w6t(n)))
        }
        "W6s" => {
            let n = arg_u64(args, 0, Some(1_000_000));
            (n, rt.block_on(w6s(n)))
        }
        _ => usage(),
    };
    let s = wall.as_secs_f64();
    println!(
        "RESULT impl=tokio workload={} n={} wall_s={:.6} rss_kb={} ns_per_op={:.1}",
        w,
        n,
        s,
        max_rss_kb(),
        s * 1e9 / n as f64
    );
}
