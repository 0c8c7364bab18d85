# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Everything that was here is in test_helper.bash, the one fixture; this name
# stays so that a file that still says `load plprog` keeps working.
load test_helper
