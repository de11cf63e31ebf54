#include "app/commands.h"

#include "core/aggregator.h"
#include "core/csvreport.h"
#include "core/timeutil.h"

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace studio::app {

int runAggregate(const AggregateCommand &command)
{
    core::AggregatorConfig config;
    if (std::string e = finishAggregatorOptions(command.aggregator, config); !e.empty()) {
        fmt::print(stderr, "error: {}\n", e);
        return 2;
    }
    std::FILE *in = std::fopen(command.input.c_str(), "rb");
    if (!in) {
        fmt::print(stderr, "error: cannot read '{}': {}\n", command.input, std::strerror(errno));
        return 1;
    }

    core::CsvReportCollector reports;
    core::Aggregator aggregator(config, &reports);
    core::RecordBatch batch;
    char *line = nullptr;
    std::size_t capacity = 0;
    ssize_t n = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while ((n = ::getline(&line, &capacity, in)) >= 0) {
        std::size_t length = static_cast<std::size_t>(n);
        while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
            --length;
        if (length == 0)
            continue;
        batch.add({}, std::string_view(line, length));
        if (batch.size() == 4096) {
            aggregator.ingestBatch(batch);
            batch.clear();
        }
    }
    const bool readError = std::ferror(in) != 0;
    std::free(line);
    std::fclose(in);
    aggregator.ingestBatch(batch);
    aggregator.flush();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (readError) {
        fmt::print(stderr, "error: reading '{}' failed\n", command.input);
        return 1;
    }
    std::string error;
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
               "written to {}\n",
               c.read, seconds, seconds > 0 ? c.read / seconds : 0.0, c.valid, c.invalid,
               reasons.empty() ? "" : " (" + reasons + ")", c.duplicates, c.late,
               reports.pages().size(), reports.geo().size(), reports.sessions().size(),
               reports.funnel().size(), command.outDir);
    if (command.json) {
        std::string byReason;
        for (std::size_t r = 0; r < core::kInvalidReasonCount; ++r)
            byReason += fmt::format("{}\"{}\":{}", r ? "," : "",
                                    core::toString(static_cast<core::InvalidReason>(r)),
                                    c.invalidByReason[r]);
        fmt::print("{{\"events_in\":{},\"valid\":{},\"invalid\":{},\"invalid_by_reason\":{{{}}},"
                   "\"duplicates\":{},\"late\":{},\"watermark\":\"{}\",\"page_rows\":{},"
                   "\"geo_rows\":{},\"sessions\":{},\"funnel_rows\":{},\"seconds\":{:.3f},"
                   "\"events_per_second\":{:.0f}}}\n",
                   c.read, c.valid, c.invalid, byReason, c.duplicates, c.late,
                   c.watermarkMs == core::kNoWatermark ? std::string()
                                                       : core::formatIsoMs(c.watermarkMs),
                   reports.pages().size(), reports.geo().size(), reports.sessions().size(),
                   reports.funnel().size(), seconds, seconds > 0 ? c.read / seconds : 0.0);
    }
    return 0;
}

} // namespace studio::app
