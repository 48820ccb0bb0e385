//! `magpie::signal`: signals delivered to this test process itself.
//!
//! Signals are process-wide, so this binary holds only signal tests, each test takes the
//! `SERIAL` lock (deliveries of one test must not reach another's listeners), and only
//! SIGUSR1, SIGUSR2 and SIGHUP are sent (never SIGINT or SIGTERM at the test process).
//! Every wait is bounded by a timeout, and every "nothing arrives" check waits long enough
//! that a wrongly reported delivery would be seen.

use std::io;
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::Duration;

use magpie::signal::unix::{signal, Signal, SignalKind};
use magpie::time::timeout;
use magpie::{Builder, Runtime};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Both flavours, named for failure messages.
fn flavours() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "multi_thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            Builder::new_current_thread().build().unwrap(),
        ),
    ]
}

/// Delivers `sig` to the calling thread; the handler has run when this returns.
fn raise(sig: libc::c_int) {
    // SAFETY: raise(3) has no preconditions.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

/// Sends `sig` to the whole process (any thread may take it).
fn kill_self(sig: libc::c_int) {
    // SAFETY: kill(2) and getpid(2) have no preconditions.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

const ARRIVES: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(150);

async fn arrives(sig: &mut Signal, what: &str) {
    match timeout(ARRIVES, sig.recv()).await {
        Ok(Some(())) => {}
        Ok(None) => panic!("{what}: recv returned None (runtime shut down?)"),
        Err(_) => panic!("{what}: no delivery within {ARRIVES:?}"),
    }
}

async fn stays_quiet(sig: &mut Signal, what: &str) {
    if timeout(QUIET, sig.recv()).await.is_ok() {
        panic!("{what}: a delivery was reported that did not happen after the listener looked");
    }
}

#[test]
fn every_listener_receives_each_delivery_and_deliveries_coalesce() {
    let _serial = serial();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut listeners: Vec<Signal> = (0..3)
                .map(|_| signal(SignalKind::user_defined1()).unwrap())
                .collect();
            for round in 0..3 {
                raise(libc::SIGUSR1);
                for (i, l) in listeners.iter_mut().enumerate() {
                    arrives(l, &format!("{flavour}: round {round}, listener {i}")).await;
                }
            }
            // Three deliveries while nobody looks: one report each, then quiet.
            for _ in 0..3 {
                raise(libc::SIGUSR1);
            }
            for (i, l) in listeners.iter_mut().enumerate() {
                arrives(l, &format!("{flavour}: coalesced, listener {i}")).await;
                stays_quiet(l, &format!("{flavour}: after coalescing, listener {i}")).await;
            }
        });
    }
}

#[test]
fn a_listener_made_after_a_delivery_gets_none_of_it() {
    let _serial = serial();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut early = signal(SignalKind::user_defined2()).unwrap();
            raise(libc::SIGUSR2);
            let mut late = signal(SignalKind::user_defined2()).unwrap();
            arrives(&mut early, &format!("{flavour}: early listener")).await;
            stays_quiet(&mut late, &format!("{flavour}: late listener")).await;
            raise(libc::SIGUSR2);
            arrives(
                &mut late,
                &format!("{flavour}: late listener, next delivery"),
            )
            .await;
            arrives(
                &mut early,
                &format!("{flavour}: early listener, next delivery"),
            )
            .await;
        });
    }
}

#[test]
fn a_waiting_listener_is_woken_by_a_signal_from_another_thread() {
    let _serial = serial();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut hup = signal(SignalKind::hangup()).unwrap();
            let waiter = magpie::spawn(async move {
                arrives(&mut hup, "waiting task").await;
                hup
            });
            // Let the waiter park (the runtime sleeps in the driver) before the signal.
            magpie::time::sleep(Duration::from_millis(30)).await;
            std::thread::spawn(|| kill_self(libc::SIGHUP))
                .join()
                .unwrap();
            let mut hup = timeout(ARRIVES, waiter)
                .await
                .unwrap_or_else(|_| panic!("{flavour}: the waiting task was not woken"))
                .unwrap();
            stays_quiet(&mut hup, flavour).await;
        });
    }
}

#[test]
fn many_rounds_lose_no_wake_up() {
    let _serial = serial();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut sig = signal(SignalKind::user_defined1()).unwrap();
            for round in 0..200 {
                if round % 2 == 0 {
                    raise(libc::SIGUSR1);
                } else {
                    std::thread::spawn(|| kill_self(libc::SIGUSR1))
                        .join()
                        .unwrap();
                }
                arrives(&mut sig, &format!("{flavour}: round {round}")).await;
            }
        });
    }
}

#[test]
fn a_cancelled_recv_loses_no_delivery() {
    let _serial = serial();
    for (flavour, rt) in flavours() {
        rt.block_on(async {
            let mut sig = signal(SignalKind::user_defined2()).unwrap();
            // A recv that is dropped before any delivery...
            assert!(timeout(Duration::from_millis(20), sig.recv())
                .await
                .is_err());
            // ...leaves the next delivery for the next recv.
            raise(libc::SIGUSR2);
            arrives(&mut sig, flavour).await;
        });
    }
}

/// Listeners on two runtimes (one of each flavour, each driven by its own thread) both
/// receive one `kill` of the process.
#[test]
fn listeners_on_two_runtimes_both_receive() {
    let _serial = serial();
    let ready = Arc::new(Barrier::new(3));
    let runners: Vec<_> = flavours()
        .into_iter()
        .map(|(flavour, rt)| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                rt.block_on(async move {
                    let mut sig = signal(SignalKind::user_defined1()).unwrap();
                    ready.wait();
                    arrives(&mut sig, &format!("{flavour} runtime")).await;
                    // The second delivery too, with both runtimes parked in their drivers.
                    ready.wait();
                    arrives(&mut sig, &format!("{flavour} runtime, second")).await;
                })
            })
        })
        .collect();
    ready.wait();
    kill_self(libc::SIGUSR1);
    ready.wait();
    std::thread::sleep(Duration::from_millis(30));
    kill_self(libc::SIGUSR1);
    for r in runners {
        r.join().unwrap();
    }
}

#[test]
fn forbidden_and_out_of_range_signals_are_invalid_input_naming_the_signal() {
    let _serial = serial();
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for (signum, name) in [
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGSTOP, "SIGSTOP"),
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGILL, "SIGILL"),
            (libc::SIGFPE, "SIGFPE"),
        ] {
            let err = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}");
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        for signum in [0, -1, 1000] {
            let err = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}");
            assert!(err.to_string().contains(&signum.to_string()), "{err}");
        }
    });
}

/// Outside a runtime: an error, and the signal's disposition is left alone (SIGWINCH is
/// listened for by no other test here).
#[test]
fn outside_a_runtime_is_an_error_and_installs_nothing() {
    let _serial = serial();
    let err = signal(SignalKind::window_change()).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action only queries.
    let handler = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(libc::SIGWINCH, std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    };
    assert_eq!(
        handler,
        libc::SIG_DFL,
        "a handler was installed outside a runtime"
    );
}

/// A listener whose runtime has shut down reports `None` instead of hanging.
#[test]
fn recv_after_the_runtime_shut_down_is_none() {
    let _serial = serial();
    let first = Builder::new_current_thread().build().unwrap();
    let mut sig = first.block_on(async { signal(SignalKind::hangup()).unwrap() });
    drop(first);
    let second = Builder::new_current_thread().build().unwrap();
    let got = second.block_on(async { timeout(ARRIVES, sig.recv()).await });
    assert_eq!(got.expect("recv hung after shutdown"), None);
}

#[test]
fn signal_kind_values_and_debug() {
    assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    assert_eq!(SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    assert_eq!(SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    assert_eq!(SignalKind::child().as_raw_value(), libc::SIGCHLD);
    assert_eq!(SignalKind::from_raw(libc::SIGHUP), SignalKind::hangup());
    assert_eq!(
        format!("{:?}", SignalKind::terminate()),
        "SignalKind(SIGTERM)"
    );
    // ctrl_c is a Send + 'static future.
    fn send_static<F: std::future::Future + Send + 'static>(_: F) {}
    send_static(magpie::signal::ctrl_c());
}
