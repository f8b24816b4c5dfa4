# SPDX-License-Identifier: GPL-2.0
# Sourced by stage-diff.sh and stage-readmes.sh, so `make diff` and the README check agree
# on what a stage's source is: everything in its folder but Kbuild's outputs and the
# rust-analyzer file (`make rust-analyzer`), as options for diff.
# shellcheck shell=bash disable=SC2034
stage_excludes=(-x '*.o' -x '*.ko' -x '*.mod' -x '*.mod.c' -x '.*.cmd' -x '*.order'
  -x '*.symvers' -x 'rust-project.json' -x '.module-common.o')
