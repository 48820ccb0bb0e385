// Channel workloads (issue 17), written once: `include!`d after the other workload files
// into the same per-runtime modules, so every runtime runs this very code through its
// adapter (`rt::mpsc*`, `rt::bcast*`).

/// Producers of `mpsc_fan_in`.
const FAN_IN_PRODUCERS: usize = 8;
/// Messages per producer in `mpsc_fan_in`.
const FAN_IN_PER: usize = 20_000;
/// The bounded channel's capacity in `mpsc_fan_in`.
const FAN_IN_CAPACITY: usize = 1_024;
/// Receivers of `broadcast_fan_out`.
const FAN_OUT_RECEIVERS: usize = 16;
/// Messages sent in `broadcast_fan_out`.
const FAN_OUT_MESSAGES: usize = 10_000;

/// 8 producer tasks send 20,000 numbers each into one bounded (1,024) mpsc channel; one
/// consumer receives all 160,000 and checks count and sum.
pub fn mpsc_fan_in(r: &Rt) {
    in_task(r, async {
        let (tx, mut rx) = rt::mpsc::<usize>(FAN_IN_CAPACITY);
        for p in 0..FAN_IN_PRODUCERS {
            let tx = tx.clone();
            rt::detach(rt::spawn(async move {
                for i in p * FAN_IN_PER..(p + 1) * FAN_IN_PER {
                    rt::mpsc_send(&tx, i).await;
                }
            }));
        }
        drop(tx);
        let (mut n, mut sum) = (0usize, 0usize);
        while let Some(v) = rt::mpsc_recv(&mut rx).await {
            n += 1;
            sum += v;
        }
        let total = FAN_IN_PRODUCERS * FAN_IN_PER;
        assert_eq!((n, sum), (total, total * (total - 1) / 2));
    });
}

/// One sender broadcasts 10,000 numbers to 16 receiver tasks (capacity 10,000, so no
/// receiver lags and each must see every value); each checks its count and sum.
pub fn broadcast_fan_out(r: &Rt) {
    in_task(r, async {
        let (tx, rx) = rt::broadcast::<usize>(FAN_OUT_MESSAGES);
        let receivers: Vec<_> = (0..FAN_OUT_RECEIVERS)
            .map(|_| {
                let mut rx = rt::bcast_subscribe(&tx);
                rt::spawn(async move {
                    let (mut n, mut sum) = (0usize, 0usize);
                    while let Some(v) = rt::bcast_recv(&mut rx).await {
                        n += 1;
                        sum += v;
                    }
                    (n, sum)
                })
            })
            .collect();
        drop(rx);
        for i in 0..FAN_OUT_MESSAGES {
            rt::bcast_send(&tx, i);
        }
        drop(tx);
        let m = FAN_OUT_MESSAGES;
        for h in receivers {
            assert_eq!(rt::join(h).await, (m, m * (m - 1) / 2));
        }
    });
}
