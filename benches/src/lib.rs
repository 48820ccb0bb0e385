//! Identical workloads on magpie, tokio and smol's executor, shared by the criterion
//! benches and the `compare` binary. (Skeleton: the workloads land with the benchmarks
//! issue.)
