// bench_shim.cc - the C++ half of perf/bench.h: adapts C benchmark
// functions to Google Benchmark and provides main().
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench.h"

struct bench_state {
	benchmark::State *gb;
	int64_t arg;
	bool started;
};

namespace {

struct Registration {
	std::string name;
	bench_fn fn;
	std::vector<int64_t> args;
	int64_t iterations;
};

std::vector<Registration> &
registry()
{
	static std::vector<Registration> r;
	return r;
}

void
run(benchmark::State &gb, bench_fn fn)
{
	bench_state st{&gb, gb.range(0), false};
	fn(&st);
	// A benchmark whose function never entered the loop still has to
	// satisfy Google Benchmark's "loop ran" check.
	if (!st.started)
		for (auto _ : gb) {
		}
}

} // namespace

extern "C" {

int
bench_keep_running(struct bench_state *st)
{
	st->started = true;
	return st->gb->KeepRunning() ? 1 : 0;
}

int64_t
bench_arg(struct bench_state *st)
{
	return st->arg;
}

int64_t
bench_iterations(struct bench_state *st)
{
	return (int64_t)st->gb->iterations();
}

void
bench_set_items(struct bench_state *st, int64_t items)
{
	st->gb->SetItemsProcessed(items);
}

void
bench_set_bytes(struct bench_state *st, int64_t bytes)
{
	st->gb->SetBytesProcessed(bytes);
}

void
bench_counter(struct bench_state *st, const char *name, double value)
{
	st->gb->counters[name] = benchmark::Counter(value);
}

void
bench_pause(struct bench_state *st)
{
	st->gb->PauseTiming();
}

void
bench_resume(struct bench_state *st)
{
	st->gb->ResumeTiming();
}

void
bench_skip(struct bench_state *st, const char *msg)
{
	st->gb->SkipWithError(msg);
}

void
bench_register(const char *name, bench_fn fn, const int64_t *args, int nargs,
	       int64_t iterations)
{
	Registration r{name, fn, {}, iterations};
	for (int i = 0; i < nargs; i++)
		r.args.push_back(args[i]);
	registry().push_back(r);
}

} // extern "C"

int
main(int argc, char **argv)
{
	for (const Registration &r : registry()) {
		auto *b = benchmark::RegisterBenchmark(r.name.c_str(),
			[fn = r.fn](benchmark::State &gb) { run(gb, fn); });
		if (r.args.empty())
			b->Arg(0);
		for (int64_t a : r.args)
			b->Arg(a);
		if (r.iterations > 0)
			b->Iterations(r.iterations);
		b->UseRealTime();
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
