// SPDX-License-Identifier: GPL-2.0
/*
 * Lab 06, all seven tasks, in C: the finished lab with the interface and behaviour of
 * stage 7 (task7-multi/taskmonitor.rs), for the students who write the lab in C.
 *
 * `insmod taskmonitor.ko [target=PID] [frequency=HZ]` starts a kernel thread that
 * samples every monitored process `frequency` times per second into one history;
 * `echo PID > /sys/kernel/debug/taskmonitor` adds a process, `echo -PID` removes it.
 * /sys/kernel/debug/taskmonitor lists the whole history, newest first, through
 * seq_file, and /sys/kernel/taskmonitor its newest page. A shrinker frees the oldest
 * samples when the kernel reclaims memory. Samples are allocated from a mempool on
 * top of the task_sample slab cache, and reference counted.
 *
 * The comments marked "Mistake:" name the errors found in public C solutions of
 * this lab, and say why this code does not make them.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/kobject.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/cputime.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

static int target;
module_param(target, int, 0444);
MODULE_PARM_DESC(target, "PID of a first process to monitor (optional)");

static unsigned int frequency = 1;
module_param(frequency, uint, 0444);
MODULE_PARM_DESC(frequency, "Samples per second, 1 to 1000 (default 1)");

/* Highest sampling frequency: one sample per millisecond. */
#define MAX_FREQUENCY 1000

/* ANCHOR: sample */
/* What get_sample() measures of a process at one point in time. */
struct task_stats {
	u64 utime;	/* user CPU time in ns, as /proc/PID/task/PID/stat accounts it */
	u64 stime;	/* system CPU time in ns */
	u64 total_kb;	/* all mapped memory (VmSize) */
	u64 stack_kb;	/* mapped stack (VmStk) */
	u64 data_kb;	/* mapped data (VmData) */
};

/* One sample, linked into the history and reference counted. */
struct task_sample {
	struct task_stats stats;
	pid_t pid;	/* which process: the history holds the samples of all of them */
	struct kref refs;
	struct list_head list;
};

/* ANCHOR_END: sample */

/* ANCHOR: task_monitor */
/* One monitored process, linked into the list of them (Task 7, Question 1). */
struct task_monitor {
	/*
	 * Mistake: keeping a pid_t and looking it up at each sample. Once the process has
	 * gone, a new one that reuses the number would be sampled instead. A reference on
	 * the struct pid (find_get_pid()) stays with the process that had it.
	 */
	struct pid *pid;
	pid_t nr;
	struct list_head list;
};

/* The monitored processes, and their lock (the thread holds it for each sampling pass). */
static LIST_HEAD(tasks);
static DEFINE_MUTEX(tasks_lock);

/*
 * The samples of every monitored process, newest first, and their lock, which the
 * shrinker only tries: it must not wait for it.
 */
static LIST_HEAD(history);
static DEFINE_MUTEX(history_lock);
/* Samples ever pushed into and removed from the history: a reader's bookkeeping. */
static u64 history_pushed;
static u64 history_removed;
/*
 * How many samples the history holds: changed under history_lock, read without it,
 * because the shrinker's count_objects must not block.
 */
static atomic_long_t history_count;
/* How many samples could not be allocated, even from the reserve. */
static atomic_long_t failures;
/* ANCHOR_END: task_monitor */

static struct kmem_cache *task_sample_cache;
static mempool_t *sample_pool;
static struct task_struct *thread;
static struct shrinker *shrinker;
static struct dentry *debugfs_file;

/* ANCHOR: pool_size */
/*
 * Samples kept in reserve: a minute of sampling at the default 1 Hz, or one slab page
 * (64 samples of 64 bytes).
 */
#define MIN_SAMPLES 64
/* ANCHOR_END: pool_size */

/* The longest line a sample gives, newline included (the widest is 145 bytes). */
#define MAX_LINE 160

/* ANCHOR: get_sample */
/* The process a monitor follows, with a reference, unless it has exited or is exiting. */
static struct task_struct *monitored_task(struct pid *pid)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);

	/* An exiting task has no more time to account and is losing its memory map. */
	if (task && (READ_ONCE(task->flags) & PF_EXITING)) {
		put_task_struct(task);
		return NULL;
	}
	return task;
}

/* CPU times and mapped memory of a monitored process; false once it has exited. */
static bool get_sample(struct task_monitor *tm, struct task_stats *stats)
{
	struct task_struct *task = monitored_task(tm->pid);
	struct mm_struct *mm;

	if (!task)
		return false;
	*stats = (struct task_stats){};
	task_cputime_adjusted(task, &stats->utime, &stats->stime);
	/*
	 * Mistake: reading task->mm. A task past exit_mm() has none (NULL), and without a
	 * reference the mm could be freed while we read it. get_task_mm() returns NULL for
	 * a task without a memory map, else takes a reference for us.
	 */
	mm = get_task_mm(task);
	if (mm) {
		/* Read once each, without the mmap lock, as /proc/PID/status does. */
		stats->total_kb = (u64)READ_ONCE(mm->total_vm) << (PAGE_SHIFT - 10);
		stats->stack_kb = (u64)READ_ONCE(mm->stack_vm) << (PAGE_SHIFT - 10);
		stats->data_kb = (u64)READ_ONCE(mm->data_vm) << (PAGE_SHIFT - 10);
		mmput(mm);
	}
	put_task_struct(task);
	return true;
}

/* ANCHOR_END: get_sample */

/* One line of output: the lab's format followed by the memory fields. */
static int sample_line(char *buf, size_t size, const struct task_sample *sample)
{
	const struct task_stats *s = &sample->stats;

	return scnprintf(buf, size, "pid %d usr %llu sys %llu total %llu stack %llu data %llu\n",
			 sample->pid, s->utime, s->stime, s->total_kb, s->stack_kb, s->data_kb);
}

/* ANCHOR: release */
/* Called by kref_put() when the last reference goes: the sample goes back to the pool. */
static void sample_release(struct kref *kref)
{
	struct task_sample *sample = container_of(kref, struct task_sample, refs);

	mempool_free(sample, sample_pool);
}

static void sample_put(struct task_sample *sample)
{
	kref_put(&sample->refs, sample_release);
}

/* ANCHOR_END: release */

/* ANCHOR: failed */
/*
 * Counts a failed allocation, and says so on the 1st, 2nd, 4th, 8th... one: a warning
 * per sample would flood the log at high frequencies.
 */
static void allocation_failed(void)
{
	long n = atomic_long_inc_return(&failures);

	if (is_power_of_2(n))
		pr_warn("no memory for a sample, even in the reserve (%ld failures)\n", n);
}

/* ANCHOR_END: failed */

/* ANCHOR: save_sample */
/*
 * Samples one process, adds the sample to the history, and returns it with a
 * reference for the caller: the history holds the other (Task 5, Question 2).
 * ERR_PTR(-ESRCH) once the process has exited, ERR_PTR(-ENOMEM) when neither the
 * slab cache nor the pool's reserve has a sample to give.
 */
static struct task_sample *save_sample(struct task_monitor *tm)
{
	struct task_sample *sample;
	struct task_stats stats;

	if (!get_sample(tm, &stats))
		return ERR_PTR(-ESRCH);
	/*
	 * Mistake: allocating with GFP_KERNEL under a lock that the shrinker takes: the
	 * allocation may enter reclaim, which calls the shrinker, which waits for the lock
	 * we hold. The sample is allocated before history_lock is taken, and without
	 * sleeping at all (GFP_NOWAIT: see the pool's creation).
	 */
	sample = mempool_alloc(sample_pool, GFP_NOWAIT);
	if (!sample) {
		allocation_failed();
		return ERR_PTR(-ENOMEM);
	}
	sample->stats = stats;
	sample->pid = tm->nr;
	kref_init(&sample->refs);	/* the caller's reference */
	kref_get(&sample->refs);	/* the history's */
	mutex_lock(&history_lock);
	list_add(&sample->list, &history);
	history_pushed++;
	atomic_long_inc(&history_count);
	mutex_unlock(&history_lock);
	return sample;
}

/* ANCHOR_END: save_sample */

static void monitor_free(struct task_monitor *tm)
{
	put_pid(tm->pid);
	kfree(tm);
}

/* ANCHOR: monitor_all */
/*
 * One period of monitor_fn(): samples every monitored process, and forgets those that
 * have exited; their samples stay in the history (Task 7, Question 2).
 */
static void sample_all(void)
{
	struct task_monitor *tm, *next;
	struct task_sample *sample;

	mutex_lock(&tasks_lock);
	list_for_each_entry_safe(tm, next, &tasks, list) {
		sample = save_sample(tm);
		if (!IS_ERR(sample)) {
			/* Two references now: the history's and ours, given back here. */
			sample_put(sample);
		} else if (PTR_ERR(sample) == -ESRCH) {
			pr_info("pid %d has exited, no longer monitored\n", tm->nr);
			list_del(&tm->list);
			monitor_free(tm);
		}
		/* -ENOMEM was counted; memory may come back by the next period. */
	}
	mutex_unlock(&tasks_lock);
}

/* ANCHOR_END: monitor_all */

/* ANCHOR: sleep_until_next */
/*
 * The deadline after @previous, for a thread at @now that samples once per @period
 * (all in ns of the monotonic clock). Deadlines do not drift: each is the previous
 * plus the period, so the time a sample takes comes out of the next sleep. A thread
 * late by less than a period samples at once; one late by a whole period or more (its
 * CPU was taken away) skips the deadlines it missed rather than catch up in a burst.
 */
static ktime_t next_deadline(ktime_t previous, s64 period, ktime_t now)
{
	ktime_t next = previous + period;

	if (now - next < period)
		return next;
	return next + (div64_u64(now - next, period) + 1) * period;
}

/*
 * Sleeps until the next deadline on a high-resolution timer, or less if the thread is
 * asked to stop. The lab's schedule_timeout(period) after each sample runs slower
 * than asked: the sample's own time adds to each period, and a one-jiffy timeout lasts
 * until the second tick, so frequency=1000 gave fewer than 500 samples a second.
 */
static void sleep_until_next(ktime_t *deadline, s64 period)
{
	ktime_t now = ktime_get();

	*deadline = next_deadline(*deadline, period, now);
	if (*deadline <= now)
		return;
	for (;;) {
		/*
		 * The state is set before the check: a kthread_stop() after the check wakes
		 * this thread, and schedule_hrtimeout() returns at once.
		 */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		/* 0 once the deadline has passed; woken before it, sleep again. */
		if (!schedule_hrtimeout(deadline, HRTIMER_MODE_ABS))
			break;
	}
	__set_current_state(TASK_RUNNING);
}

/* ANCHOR_END: sleep_until_next */

/* ANCHOR: monitor_fn */
/* The sampling thread: it returns only when kthread_stop() asks it to. */
static int monitor_fn(void *unused)
{
	s64 period = NSEC_PER_SEC / frequency;
	ktime_t deadline = ktime_get();

	while (!kthread_should_stop()) {
		sample_all();
		sleep_until_next(&deadline, period);
	}
	return 0;
}

/* ANCHOR_END: monitor_fn */

/* ANCHOR: commands */
/* `echo PID`: starts monitoring a process. */
static int monitor_add(pid_t nr)
{
	struct task_monitor *tm, *other;
	struct task_struct *task;
	struct pid *pid;

	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	task = pid ? monitored_task(pid) : NULL;
	if (!task) {
		put_pid(pid);
		return -ESRCH;
	}
	put_task_struct(task);
	/* Allocated before the lock is taken, like samples. */
	tm = kzalloc(sizeof(*tm), GFP_KERNEL);
	if (!tm) {
		put_pid(pid);
		return -ENOMEM;
	}
	tm->pid = pid;
	tm->nr = nr;
	mutex_lock(&tasks_lock);
	list_for_each_entry(other, &tasks, list) {
		if (other->nr == nr) {
			mutex_unlock(&tasks_lock);
			monitor_free(tm);
			return -EEXIST;
		}
	}
	list_add(&tm->list, &tasks);
	pr_info("monitoring pid %d\n", nr);
	mutex_unlock(&tasks_lock);
	return 0;
}

/* `echo -PID`: stops monitoring a process; its samples stay in the history. */
static int monitor_remove(pid_t nr)
{
	struct task_monitor *tm, *found = NULL;

	mutex_lock(&tasks_lock);
	list_for_each_entry(tm, &tasks, list) {
		if (tm->nr == nr) {
			list_del(&tm->list);
			found = tm;
			break;
		}
	}
	mutex_unlock(&tasks_lock);
	if (!found)
		return -ENOENT;
	pr_info("stopped monitoring pid %d\n", nr);
	monitor_free(found);
	return 0;
}

/* ANCHOR_END: commands */

/* ANCHOR: show */
/* `cat /sys/kernel/taskmonitor`: the newest samples that fit in a page (Task 1, Q3). */
static ssize_t taskmonitor_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct task_sample *sample;
	char line[MAX_LINE];
	int len = 0, n;

	mutex_lock(&history_lock);
	list_for_each_entry(sample, &history, list) {
		n = sample_line(line, sizeof(line), sample);
		/*
		 * Mistake: adding up snprintf() results, which say what *would* have been
		 * written, runs past the page. Whole lines only, and at most PAGE_SIZE - 1
		 * bytes, which is what sysfs accepts.
		 */
		if (len + n >= PAGE_SIZE)
			break;
		len += sysfs_emit_at(buf, len, "%s", line);
	}
	mutex_unlock(&history_lock);
	return len;
}

static struct kobj_attribute taskmonitor_attr = __ATTR_RO(taskmonitor);
/* ANCHOR_END: show */

/* ANCHOR: seq_ops */
/*
 * Where a reader of the debugfs file got to. seq_file renders a long read a buffer at
 * a time, calling start() and stop() for each, and the history changes in between.
 * seq_list_start() finds its place by index alone, so samples pushed in between would
 * be shown twice, and each buffer would walk the list from its front again.
 */
struct history_reader {
	u64 pushed_at_start;		/* history_pushed when the read began */
	struct task_sample *last;	/* the sample start() or next() returned last */
	u64 last_index;			/* its index from the front, then */
	u64 last_pushed;		/* history_pushed, then */
	u64 last_removed;		/* history_removed, then */
};

static struct task_sample *history_after(struct task_sample *sample)
{
	if (list_is_last(&sample->list, &history))
		return NULL;
	return list_next_entry(sample, list);
}

static void history_mark(struct history_reader *r, struct task_sample *sample, u64 index)
{
	r->last = sample;
	r->last_index = index;
	r->last_pushed = history_pushed;
	r->last_removed = history_removed;
}

/*
 * Locks the history, and finds the sample at *pos, the number of samples shown since
 * the read began, moved down by the samples pushed since: a read shows each sample
 * once, in order (those present when it began, less those the shrinker removed before
 * it got to them).
 */
static void *history_start(struct seq_file *m, loff_t *pos)
{
	struct history_reader *r = m->private;
	struct task_sample *sample = NULL;
	u64 index, at = 0;

	/*
	 * Mistake: returning NULL at the end without taking the lock, while stop() always
	 * unlocks. seq_file calls stop() after every start(), so start() always locks.
	 */
	mutex_lock(&history_lock);
	if (!*pos)
		r->pushed_at_start = history_pushed;
	index = *pos + (history_pushed - r->pushed_at_start);
	/*
	 * Go on from the last sample shown if none was removed since (so it is still in
	 * the list, where it was plus the pushes since) and it is not past the index.
	 */
	if (r->last && r->last_removed == history_removed) {
		at = r->last_index + (history_pushed - r->last_pushed);
		if (at <= index)
			sample = r->last;
	}
	if (!sample) {
		sample = list_first_entry_or_null(&history, struct task_sample, list);
		at = 0;
	}
	for (; sample && at < index; at++)
		sample = history_after(sample);
	history_mark(r, sample, index);
	return sample;
}

static void *history_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct history_reader *r = m->private;
	struct task_sample *sample = history_after(v);

	++*pos;
	/* At the end, the reader stays on the last sample. */
	if (sample)
		history_mark(r, sample, r->last_index + 1);
	return sample;
}

static void history_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&history_lock);
}

static int history_show(struct seq_file *m, void *v)
{
	char line[MAX_LINE];

	sample_line(line, sizeof(line), v);
	seq_puts(m, line);
	return 0;
}

static const struct seq_operations history_seq_ops = {
	.start = history_start,
	.next = history_next,
	.stop = history_stop,
	.show = history_show,
};

/* ANCHOR_END: seq_ops */

/* ANCHOR: write */
/*
 * The longest command, newline included: `-2147483647\n` is 12 bytes; leading zeros
 * may make a valid one longer.
 */
#define MAX_COMMAND 32
/* The longest write() read at all; a longer one is refused unread. */
#define MAX_WRITE 64

/*
 * Parses one write: an optional '-', decimal digits, and the newline that echo
 * appends. Returns NULL, or why the command is malformed, as the log says it.
 *
 * Mistake: strcmp(buf, "...") never matches what echo writes, which ends with '\n'.
 */
static const char *parse_command(char *buf, size_t len, bool *remove, int *pid)
{
	size_t i;

	if (len > MAX_COMMAND)
		return "TooLong";
	if (len && buf[len - 1] == '\n')
		len--;
	if (!len)
		return "Empty";
	*remove = buf[0] == '-';
	if (*remove) {
		buf++;
		len--;
	}
	if (!len)
		return "NotANumber";
	/* kstrtoint() would also take a leading '+' and a second '\n'. */
	for (i = 0; i < len; i++)
		if (!isdigit(buf[i]))
			return "NotANumber";
	buf[len] = '\0';	/* within the buffer: MAX_COMMAND < MAX_WRITE */
	/* Digits only: kstrtoint() can fail only with -ERANGE. */
	if (kstrtoint(buf, 10, pid))
		return "Overflow";
	if (!*pid)
		return "Zero";
	return NULL;
}

/* `echo PID` and `echo -PID` (Task 7, Question 3). A malformed command is -EINVAL. */
static ssize_t taskmonitor_write(struct file *file, const char __user *ubuf, size_t count,
				 loff_t *ppos)
{
	char buf[MAX_WRITE];
	const char *malformed;
	bool remove;
	int pid, err;

	/* Refused before anything is copied: user space cannot make us read more. */
	if (count > sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	malformed = parse_command(buf, count, &remove, &pid);
	if (malformed) {
		pr_warn("bad command (%s): write PID to add, -PID to remove\n", malformed);
		return -EINVAL;
	}
	err = remove ? monitor_remove(pid) : monitor_add(pid);
	return err ? err : count;
}

/* ANCHOR_END: write */

/* ANCHOR: fops */
/* Each open file has a history_reader, zeroed, as the seq_file's private data. */
static int taskmonitor_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &history_seq_ops, sizeof(struct history_reader));
}

static const struct file_operations taskmonitor_fops = {
	/* The module stays loaded while the file is open: rmmod is refused. */
	.owner = THIS_MODULE,
	.open = taskmonitor_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.write = taskmonitor_write,
	.release = seq_release_private,
};

/* ANCHOR_END: fops */

/* ANCHOR: shrink */
/* How many samples reclaim could free now (Task 2). */
static unsigned long taskmonitor_count(struct shrinker *s, struct shrink_control *sc)
{
	/* Read without the lock: count_objects runs in reclaim and must not block. */
	unsigned long count = atomic_long_read(&history_count);

	return count ? count : SHRINK_EMPTY;
}

/* Frees at most sc->nr_to_scan of the oldest samples. */
static unsigned long taskmonitor_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct task_sample *oldest;
	unsigned long freed = 0;

	/*
	 * Reclaim may run inside an allocation of a task that holds history_lock: give up
	 * rather than wait for it.
	 */
	if (!mutex_trylock(&history_lock))
		return SHRINK_STOP;
	while (freed < sc->nr_to_scan && !list_empty(&history)) {
		oldest = list_last_entry(&history, struct task_sample, list);
		list_del(&oldest->list);
		/*
		 * The history's reference: the thread, between save_sample() and its
		 * sample_put(), may still hold the other one.
		 */
		sample_put(oldest);
		freed++;
	}
	history_removed += freed;
	atomic_long_sub(freed, &history_count);
	mutex_unlock(&history_lock);
	/*
	 * Samples, not pages: while the pool's reserve is below MIN_SAMPLES, mempool_free()
	 * keeps what we free. sc->nr_scanned stays as the core set it, nr_to_scan.
	 */
	return freed;
}

/* ANCHOR_END: shrink */

/* ANCHOR: exit_free */
/*
 * Gives back every sample of the history, at unload (Task 1, Question 4), once the
 * thread, the shrinker and the files are gone: these references are the last ones.
 */
static void free_history(void)
{
	struct task_sample *sample, *next;

	mutex_lock(&history_lock);
	list_for_each_entry_safe(sample, next, &history, list) {
		list_del(&sample->list);
		sample_put(sample);
	}
	atomic_long_set(&history_count, 0);
	mutex_unlock(&history_lock);
}

static void free_monitors(void)
{
	struct task_monitor *tm, *next;

	mutex_lock(&tasks_lock);
	list_for_each_entry_safe(tm, next, &tasks, list) {
		list_del(&tm->list);
		monitor_free(tm);
	}
	mutex_unlock(&tasks_lock);
}

/* ANCHOR_END: exit_free */

/* ANCHOR: sizes */
/* Task 3, Question 1: what a sample takes from kmalloc, and from its own cache. */
static int print_sizes(void)
{
	struct task_sample *kmalloced = kmalloc(sizeof(*kmalloced), GFP_KERNEL);

	if (!kmalloced)
		return -ENOMEM;
	pr_info("sizeof(struct task_sample) = %zu, ksize(kmalloc'd task_sample) = %zu, task_sample object size = %u\n",
		sizeof(struct task_sample), ksize(kmalloced),
		kmem_cache_size(task_sample_cache));
	kfree(kmalloced);
	return 0;
}

/* ANCHOR_END: sizes */

/* The optional first process: a bad target is a bad parameter, -EINVAL. */
static int add_target(void)
{
	int err = monitor_add(target);

	if (err == -ESRCH) {
		pr_err("target=%d: no such process\n", target);
		return -EINVAL;
	}
	if (err == -EINVAL)
		pr_err("target=%d is not a PID\n", target);
	return err;
}

/* ANCHOR: module */
static int __init taskmonitor_init(void)
{
	int err;

	if (frequency < 1 || frequency > MAX_FREQUENCY) {
		pr_err("frequency=%u is out of range 1..=%d\n", frequency, MAX_FREQUENCY);
		return -EINVAL;
	}
	/* ANCHOR: cache */
	/*
	 * A cache of its own (SLAB_NO_MERGE), not merged with another of the same size,
	 * so that /sys/kernel/slab/task_sample/ describes our samples alone.
	 */
	task_sample_cache = KMEM_CACHE(task_sample, SLAB_NO_MERGE);
	if (!task_sample_cache)
		return -ENOMEM;
	/* ANCHOR_END: cache */
	err = print_sizes();
	if (err)
		goto destroy_cache;
	/* ANCHOR: pool */
	/*
	 * MIN_SAMPLES preallocated now. The thread takes samples with GFP_NOWAIT, from the
	 * cache if it can give one at once, else from the reserve, else fails. With the
	 * lab's GFP_KERNEL, mempool_alloc() would never fail: with the reserve empty, it
	 * sleeps in D state (5 s at a time, or until a sample is freed) and tries the cache
	 * and the reserve again, until one gives a sample, holding tasks_lock, and rmmod
	 * would wait for it.
	 */
	sample_pool = mempool_create_slab_pool(MIN_SAMPLES, task_sample_cache);
	if (!sample_pool) {
		err = -ENOMEM;
		goto destroy_cache;
	}
	/* ANCHOR_END: pool */
	if (target) {
		err = add_target();
		if (err)
			goto destroy_pool;
	}
	/* ANCHOR: thread */
	thread = kthread_create(monitor_fn, NULL, "taskmonitor");
	if (IS_ERR(thread)) {
		err = PTR_ERR(thread);
		goto free_lists;
	}
	/*
	 * Mistake: kthread_stop() on a thread that may have exited, without a reference on
	 * its task: a use after free. Ours is taken before the thread can run at all.
	 */
	get_task_struct(thread);
	wake_up_process(thread);
	/* ANCHOR_END: thread */
	err = sysfs_create_file(kernel_kobj, &taskmonitor_attr.attr);
	if (err)
		goto stop_thread;
	/* ANCHOR: shrinker_setup */
	/*
	 * Since 6.7: shrinker_alloc(), then the callbacks, then shrinker_register(). The
	 * lab's register_shrinker() of a static struct shrinker is gone. Flags, if any, go
	 * to shrinker_alloc(): assigning shrinker->flags afterwards clears the
	 * SHRINKER_ALLOCATED it set, and shrinker_register() then refuses the shrinker.
	 */
	shrinker = shrinker_alloc(0, "taskmonitor");
	if (!shrinker) {
		err = -ENOMEM;
		goto remove_sysfs;
	}
	shrinker->count_objects = taskmonitor_count;
	shrinker->scan_objects = taskmonitor_scan;
	shrinker_register(shrinker);
	/* ANCHOR_END: shrinker_setup */
	/*
	 * Last, as nothing may fail after it: an open file holds a reference on the module
	 * (.owner), which a failed load does not wait for before freeing the module's code,
	 * and closing the file would then call into freed memory.
	 */
	debugfs_file = debugfs_create_file("taskmonitor", 0600, NULL, NULL, &taskmonitor_fops);
	if (IS_ERR(debugfs_file)) {
		err = PTR_ERR(debugfs_file);
		goto free_shrinker;
	}
	pr_info("sampling at %u Hz\n", frequency);
	return 0;

	/* ANCHOR: unwind */
free_shrinker:
	shrinker_free(shrinker);
remove_sysfs:
	sysfs_remove_file(kernel_kobj, &taskmonitor_attr.attr);
stop_thread:
	kthread_stop_put(thread);
free_lists:
	free_monitors();
	free_history();
destroy_pool:
	mempool_destroy(sample_pool);
destroy_cache:
	kmem_cache_destroy(task_sample_cache);
	return err;
	/* ANCHOR_END: unwind */
}

/* ANCHOR: exit */
/*
 * Mistake: the wrong teardown order, such as the cache destroyed while samples are
 * still out. Here: nothing can reach the history any more (the shrinker, waiting for
 * its running callbacks; the thread; the files, waiting for running reads and writes),
 * then the samples go back to the pool, then the pool frees its reserve to the cache,
 * and the cache, empty, is destroyed.
 */
static void __exit taskmonitor_exit(void)
{
	shrinker_free(shrinker);
	kthread_stop_put(thread);
	/* Neither the thread nor the shrinker can change the count now. */
	pr_info("unloading, freeing %ld samples (%ld allocations failed)\n",
		atomic_long_read(&history_count), atomic_long_read(&failures));
	sysfs_remove_file(kernel_kobj, &taskmonitor_attr.attr);
	debugfs_remove(debugfs_file);
	free_monitors();
	free_history();
	mempool_destroy(sample_pool);
	kmem_cache_destroy(task_sample_cache);
}

/* ANCHOR_END: exit */
/* ANCHOR_END: module */

module_init(taskmonitor_init);
module_exit(taskmonitor_exit);

MODULE_AUTHOR("taskmonitor developers");
MODULE_DESCRIPTION("Lab 06 in C: history of several processes' samples");
MODULE_LICENSE("GPL");
