# Runtime options of the sanitizer builds (make test-asan). Source it from the
# repository root before running a binary of build-asan by hand:
#   . tests/sanitizers/env.sh && build-asan/tests/integration_test
supp="$PWD/tests/sanitizers"
# detect_stack_use_after_return: callbacks that capture a caller's locals by reference and run
# later (actor continuations, Asio handlers) are the likely bug here. Leak checking is on (the
# default); leaks outside Parley are listed in lsan.supp.
export ASAN_OPTIONS="detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
# The UBSan checks are built recoverable, because suppressions apply only to recoverable checks;
# halt_on_error makes every finding that is not suppressed end the program with a failure.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
unset supp
