//! The combinators' public types: thread-safety bounds and Debug (compile-time checks plus
//! a smoke run), and the error types' `std::error::Error` + `Display`.

use std::error::Error;
use std::fmt::Debug;

use magpie::{
    AsCompleted, AsCompletedTimeout, ChildHandle, Either, Gather, GatherOutcomes, GroupError,
    GroupHandle, GroupJoin, Shield, SpawnRefused, TaskGroup, TryGather,
};

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}
fn debug<T: Debug>() {}
fn error<T: Error + Send + Sync + 'static>() {}
fn error_send<T: Error + Send + 'static>() {}

type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

#[test]
fn bounds() {
    send::<Gather<String>>();
    send::<TryGather<String, std::io::Error>>();
    send::<GatherOutcomes<String>>();
    send::<AsCompleted<String>>();
    send::<AsCompletedTimeout<String>>();
    send::<Shield<String>>();
    send::<GroupJoin<String>>();
    send::<ChildHandle<String>>();
    send_sync::<TaskGroup<String>>();
    send_sync::<GroupHandle<String>>();
    send_sync::<GroupError<String>>();
    send_sync::<Either<u8, String>>();

    debug::<Gather<String>>();
    debug::<TryGather<String, String>>();
    debug::<GatherOutcomes<String>>();
    debug::<AsCompleted<String>>();
    debug::<AsCompletedTimeout<String>>();
    debug::<Shield<String>>();
    debug::<GroupJoin<String>>();
    debug::<ChildHandle<String>>();
    debug::<TaskGroup<String>>();
    debug::<GroupHandle<String>>();
    debug::<GroupError<String>>();
    debug::<SpawnRefused<BoxFut>>();
    debug::<Either<u8, String>>();

    error::<GroupError<std::io::Error>>();
    // Sync only when the future is: it holds the refused future, like a channel's SendError.
    error_send::<SpawnRefused<BoxFut>>();
}

#[test]
fn group_error_display_and_source() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        let tg = TaskGroup::new();
        tg.spawn(async { Err::<(), _>(std::io::Error::other("disk full")) });
        tg.join().await.unwrap_err()
    });
    assert_eq!(err.to_string(), "a task group child failed: disk full");
    assert_eq!(err.source().unwrap().to_string(), "disk full");
    assert!(format!("{err:?}").contains("GroupError"));
}

#[test]
fn debug_output_names_the_type() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let g = magpie::gather([std::future::ready(1)]);
        assert!(format!("{g:?}").starts_with("Gather"));
        assert_eq!(g.await, [1]);
        let s = magpie::as_completed([std::future::ready(1)]);
        assert!(format!("{s:?}").starts_with("AsCompleted"));
        let sh = magpie::shield(std::future::ready(1));
        assert!(format!("{sh:?}").starts_with("Shield"));
        assert_eq!(sh.await, 1);
    });
}
