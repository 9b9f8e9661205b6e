/**
 * V8 flags every cdrpipe process starts with. They must be given when Node starts (V8 sizes its
 * heap once, at start-up), so the installed entry `bin/cdrpipe.js` carries them on its `#!` line
 * (`npx cdrpipe` and the package's bin link run it through that line); this list is the one place
 * that names them, and a test checks that the entry's line says the same.
 *
 * `--max-semi-space-size=2`: V8's young generation is two semi-spaces of up to 16 MiB each by
 * default, and loading cdrpipe's modules grows them to the full 32 MiB, which a process then keeps
 * whatever it does (about 40 MiB of RSS with the scavenger's own memory). cdrpipe's short-lived
 * objects are small (a page's records, a batch's rows) and its large ones (page bodies) are
 * collected by the ingest's full collections, so 2 MiB semi-spaces cost scavenges, not wall time.
 */
export const V8_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
