//! Maps over indices that run on rayon's threads with the `parallel` feature and in a plain
//! loop without it (WebAssembly in a browser has no threads).
//!
//! Every item is computed on its own and the results are collected in index order, and no
//! float is ever reduced across threads, so a result is the same bytes whatever the thread
//! count and whether or not the feature is on.

use std::ops::Range;

/// Why worker threads could not be had.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot start {threads} worker threads: {reason}")]
pub struct PoolError {
    /// Threads asked for.
    pub threads: usize,
    /// What the thread library said.
    pub reason: String,
}

/// `f(i)` for every `i` in `range`, in order.
#[cfg(feature = "parallel")]
pub fn map<R: Send>(range: Range<usize>, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    range.into_par_iter().map(f).collect()
}

/// `f(i)` for every `i` in `range`, in order.
#[cfg(not(feature = "parallel"))]
pub fn map<R: Send>(range: Range<usize>, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    range.map(f).collect()
}

/// `f(x)` for every item of `items`, in order.
pub fn map_slice<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    map(0..items.len(), |i| f(&items[i]))
}

/// `f(item)` for every item, each on its own (on rayon's threads with the `parallel` feature,
/// in order without it). For work that writes only through its item, such as a block of agents
/// deciding on its own streams.
#[cfg(feature = "parallel")]
pub fn for_each<T: Send>(items: Vec<T>, f: impl Fn(T) + Sync + Send) {
    use rayon::prelude::*;
    items.into_par_iter().for_each(f);
}

/// `f(item)` for every item, each on its own (on rayon's threads with the `parallel` feature,
/// in order without it). For work that writes only through its item, such as a block of agents
/// deciding on its own streams.
#[cfg(not(feature = "parallel"))]
pub fn for_each<T: Send>(items: Vec<T>, f: impl Fn(T) + Sync + Send) {
    items.into_iter().for_each(f);
}

/// Run `f` with `threads` worker threads for the maps inside it (0 = one per core). Without
/// the `parallel` feature, `f` runs on the caller's thread.
#[cfg(feature = "parallel")]
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R, PoolError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| PoolError { threads, reason: e.to_string() })?;
    Ok(pool.install(f))
}

/// Run `f` with `threads` worker threads for the maps inside it (0 = one per core). Without
/// the `parallel` feature, `f` runs on the caller's thread.
#[cfg(not(feature = "parallel"))]
pub fn with_threads<R: Send>(_threads: usize, f: impl FnOnce() -> R + Send) -> Result<R, PoolError> {
    Ok(f())
}

/// Worker threads the maps inside [`with_threads`] use here.
pub fn current_threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_index_order_for_any_thread_count() {
        let one = with_threads(1, || map(0..1000, |i| i * i)).unwrap();
        let two = with_threads(2, || map(0..1000, |i| i * i)).unwrap();
        assert_eq!(one, two);
        assert_eq!(one[999], 999 * 999);
        assert_eq!(map_slice(&[1, 2, 3], |x| x + 1), vec![2, 3, 4]);
    }
}
