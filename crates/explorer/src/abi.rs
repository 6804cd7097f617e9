//! The module's interface to JavaScript: three functions over linear memory, no generated
//! glue. The page writes a request ([`crate::call_bytes`]) into memory it got from
//! `explorer_alloc`, calls `explorer_call`, reads the answer (a little-endian u32 length,
//! then that many bytes: a kind byte and JSON text or records) and gives both buffers back
//! with `explorer_free`.
//!
//! Why not wasm-bindgen: one JSON call needs a dozen lines of glue, and wasm-bindgen's
//! command-line tool must match the crate's version exactly, which would make CI and every
//! contributor's machine install and pin it.

/// Memory for `len` bytes, for the page to write a request into.
#[unsafe(no_mangle)]
pub extern "C" fn explorer_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()) as *mut u8
}

/// Give back memory from [`explorer_alloc`] or an answer of [`explorer_call`] (`len` being
/// what was asked for, or the answer's length plus 4).
///
/// # Safety
/// `ptr` must come from one of those calls with the same `len`, and be freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn explorer_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back a boxed slice of `len` bytes this module handed out.
    unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len))) }
}

/// Answer the request of `len` bytes at `ptr` (see [`crate::call`]).
///
/// # Safety
/// `ptr` must point to `len` initialised bytes allocated by [`explorer_alloc`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn explorer_call(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: the page wrote `len` bytes at `ptr`, memory this module handed out.
    let request = unsafe { std::slice::from_raw_parts(ptr, len) };
    let answer = crate::call_bytes(request);
    let mut out: Vec<u8> = Vec::with_capacity(answer.len() + 4);
    out.extend_from_slice(&(answer.len() as u32).to_le_bytes());
    out.extend_from_slice(&answer);
    // The page frees it with the length it reads plus 4.
    Box::into_raw(out.into_boxed_slice()) as *mut u8
}
