#ifndef DEEPGEMM_FUZZER_DRIVER_H
#define DEEPGEMM_FUZZER_DRIVER_H

/// Runs libFuzzer's driver (command-line flags, corpus, mutation loop) on the executable's
/// `LLVMFuzzerTestOneInput`. SwiftPM points an executable's `main` at the Swift entry point, so
/// libFuzzer's own `main` never runs; the Swift `main` calls this instead.
int deepgemm_fuzzer_run(int argc, char **argv);

#endif
