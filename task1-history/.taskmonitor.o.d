/work/main/task1-history/.taskmonitor.o.d: /root/.cache/taskmonitor/linux-6.12.117-1_deb12u1-2aa82f6cda77/.clippy.toml /work/main/task1-history/taskmonitor.rs /work/main/task1-history/../common/src/kmod.rs /work/main/task1-history/../common/src/command.rs /work/main/task1-history/../common/src/debugfs.rs /work/main/task1-history/../common/src/format.rs /work/main/task1-history/../common/src/kbox.rs /work/main/task1-history/../common/src/kthread.rs /work/main/task1-history/../common/src/list.rs /work/main/task1-history/../common/src/mempool.rs /work/main/task1-history/../common/src/mutex.rs /work/main/task1-history/../common/src/params.rs /work/main/task1-history/../common/src/refcount.rs /work/main/task1-history/../common/src/shrinker.rs /work/main/task1-history/../common/src/slab.rs /work/main/task1-history/../common/src/sysfs.rs /work/main/task1-history/../common/src/task.rs ./rust/libcore.rmeta ./rust/libkernel.rmeta ./rust/libffi.rmeta ./rust/libcompiler_builtins.rmeta ./rust/libmacros.so ./rust/libbindings.rmeta ./rust/libuapi.rmeta ./rust/libbuild_error.rmeta

/work/main/task1-history/taskmonitor.o: /root/.cache/taskmonitor/linux-6.12.117-1_deb12u1-2aa82f6cda77/.clippy.toml /work/main/task1-history/taskmonitor.rs /work/main/task1-history/../common/src/kmod.rs /work/main/task1-history/../common/src/command.rs /work/main/task1-history/../common/src/debugfs.rs /work/main/task1-history/../common/src/format.rs /work/main/task1-history/../common/src/kbox.rs /work/main/task1-history/../common/src/kthread.rs /work/main/task1-history/../common/src/list.rs /work/main/task1-history/../common/src/mempool.rs /work/main/task1-history/../common/src/mutex.rs /work/main/task1-history/../common/src/params.rs /work/main/task1-history/../common/src/refcount.rs /work/main/task1-history/../common/src/shrinker.rs /work/main/task1-history/../common/src/slab.rs /work/main/task1-history/../common/src/sysfs.rs /work/main/task1-history/../common/src/task.rs ./rust/libcore.rmeta ./rust/libkernel.rmeta ./rust/libffi.rmeta ./rust/libcompiler_builtins.rmeta ./rust/libmacros.so ./rust/libbindings.rmeta ./rust/libuapi.rmeta ./rust/libbuild_error.rmeta

/root/.cache/taskmonitor/linux-6.12.117-1_deb12u1-2aa82f6cda77/.clippy.toml:
/work/main/task1-history/taskmonitor.rs:
/work/main/task1-history/../common/src/kmod.rs:
/work/main/task1-history/../common/src/command.rs:
/work/main/task1-history/../common/src/debugfs.rs:
/work/main/task1-history/../common/src/format.rs:
/work/main/task1-history/../common/src/kbox.rs:
/work/main/task1-history/../common/src/kthread.rs:
/work/main/task1-history/../common/src/list.rs:
/work/main/task1-history/../common/src/mempool.rs:
/work/main/task1-history/../common/src/mutex.rs:
/work/main/task1-history/../common/src/params.rs:
/work/main/task1-history/../common/src/refcount.rs:
/work/main/task1-history/../common/src/shrinker.rs:
/work/main/task1-history/../common/src/slab.rs:
/work/main/task1-history/../common/src/sysfs.rs:
/work/main/task1-history/../common/src/task.rs:
./rust/libcore.rmeta:
./rust/libkernel.rmeta:
./rust/libffi.rmeta:
./rust/libcompiler_builtins.rmeta:
./rust/libmacros.so:
./rust/libbindings.rmeta:
./rust/libuapi.rmeta:
./rust/libbuild_error.rmeta:

# env-dep:CLIPPY_ARGS
# env-dep:CLIPPY_CONF_DIR=.
