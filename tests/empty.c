/* SPDX-License-Identifier: MIT */
/* An empty library: the baseline that benchmarks preload instead of pidlock. */
int pl_empty_library_marker;
