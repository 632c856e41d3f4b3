// Package docs holds no code: it is the home of the repository's prose
// (design.md, protocol/*.md) and of the test that keeps the code's
// citations of it honest. Comments cite protocol facts as
// "docs/protocol/webrepl.md §3.2" (also "§1–§2, §8" and "Appendix A");
// TestCitationsResolve fails, naming file:line, for every cited section or
// appendix that has no heading in that document.
package docs
