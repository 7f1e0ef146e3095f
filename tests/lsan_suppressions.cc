// LeakSanitizer suppressions for the unit tests (read by the sanitizer runtime at start-up; an
// unused symbol in other builds). Only third-party state that lives until exit by design:
// fontconfig's configuration and font caches, which pango loads for the letter PDF tests and
// never frees (FcFini cannot run while pango's font map holds them).
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
