#include "app/commands.h"

#include "app/metricsserver.h"

#include "core/aggregate/aggregator.h"
#include "core/common/timeutil.h"
#include "core/engine/enginemetrics.h"
#include "core/produce/filereplaysource.h"
#include "core/store/csvreport.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>

namespace studio::app {

int runAggregate(const AggregateCommand &command)
{
    core::AggregatorConfig config;
    if (std::string e = finishAggregatorOptions(command.aggregator, config); !e.empty()) {
        fmt::print(stderr, "error: {}\n", e);
        return 2;
    }
    std::string error;
    MetricsEndpoint endpoint;
    if (!endpoint.start(command.metrics, &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return 2;
    }
    auto input = core::FileReplaySource::open(command.input, false, &error,
                                              core::FileReplaySource::Keys::None);
    if (!input) {
        fmt::print(stderr, "error: {}\n", error);
        return 1;
    }

    core::CsvReportCollector reports;
    core::Aggregator aggregator(config, &reports);
    const auto metrics = endpoint.registry().add("aggregator", [&aggregator](core::MetricsText &t) {
        core::collectAggregatorMetrics(t, aggregator);
    });
    core::RecordBatch batch;
    const auto t0 = std::chrono::steady_clock::now();
    while (!input->atEnd()) {
        batch.clear();
        input->fill(batch, 4096, 0);
        aggregator.ingestBatch(batch);
    }
    const std::string readError = input->lastError();
    aggregator.flush();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!readError.empty()) {
        fmt::print(stderr, "error: {}\n", readError);
        return 1;
    }
    if (!reports.write(command.outDir, &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return 1;
    }

    const core::AggregateCounters c = aggregator.counters();
    std::string reasons;
    for (std::size_t r = 0; r < core::kInvalidReasonCount; ++r) {
        if (c.invalidByReason[r] > 0)
            reasons += fmt::format("{}{}={}", reasons.empty() ? "" : ", ",
                                   core::toString(static_cast<core::InvalidReason>(r)),
                                   c.invalidByReason[r]);
    }
    fmt::print(stderr,
               "aggregated {} events in {:.2f} s ({:.0f} events/s): {} valid, {} invalid{}, {} "
               "duplicates, {} late; {} page rows, {} geo rows, {} sessions, {} funnel rows "
               "written to {}{}\n",
               c.read, seconds, seconds > 0 ? c.read / seconds : 0.0, c.valid, c.invalid,
               reasons.empty() ? "" : " (" + reasons + ")", c.duplicates, c.late,
               reports.pages().size(), reports.geo().size(), reports.sessions().size(),
               reports.funnel().size(), command.outDir,
               c.keysFolded ? fmt::format("; key cap {} reached in {} window(s): {} key(s) "
                                          "counted into (other)",
                                          config.maxKeysPerWindow, c.windowsCapped, c.keysFolded)
                            : std::string());
    if (command.json) {
        std::string byReason;
        for (std::size_t r = 0; r < core::kInvalidReasonCount; ++r)
            byReason += fmt::format("{}\"{}\":{}", r ? "," : "",
                                    core::toString(static_cast<core::InvalidReason>(r)),
                                    c.invalidByReason[r]);
        fmt::print("{{\"events_in\":{},\"valid\":{},\"invalid\":{},\"invalid_by_reason\":{{{}}},"
                   "\"duplicates\":{},\"late\":{},\"watermark\":\"{}\",\"page_rows\":{},"
                   "\"geo_rows\":{},\"sessions\":{},\"funnel_rows\":{},\"keys_folded\":{},"
                   "\"windows_capped\":{},\"state_bytes\":{},\"seconds\":{:.3f},"
                   "\"events_per_second\":{:.0f}}}\n",
                   c.read, c.valid, c.invalid, byReason, c.duplicates, c.late,
                   c.watermarkMs == core::kNoWatermark ? std::string()
                                                       : core::formatIsoMs(c.watermarkMs),
                   reports.pages().size(), reports.geo().size(), reports.sessions().size(),
                   reports.funnel().size(), c.keysFolded, c.windowsCapped, c.stateBytes, seconds,
                   seconds > 0 ? c.read / seconds : 0.0);
    }
    return 0;
}

} // namespace studio::app
