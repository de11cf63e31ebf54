#pragma once

#include "core/aggregate/aggregates.h"

#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

/// One CSV field per RFC 4180 (quoted when it holds a comma, quote, CR or LF; quotes doubled).
/// Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is neutralised with a
/// leading apostrophe; use it for text cells only, numbers are written as they are.
std::string csvText(std::string_view text);

/// Collects final results and writes the four reports of issue 3 (page_metrics.csv,
/// geo_metrics.csv, sessions.csv, product_funnel.csv), sorted by window then key.
class CsvReportCollector final : public AggregateSink
{
public:
    void onFinal(FinalResults &&results) override;

    /// Writes the four files into `directory` (created if missing). False with a message.
    bool write(const std::string &directory, std::string *error) const;

    const std::vector<PageRow> &pages() const { return m_pages; }
    const std::vector<GeoRow> &geo() const { return m_geo; }
    const std::vector<SessionRow> &sessions() const { return m_sessions; }
    const std::vector<FunnelRow> &funnel() const { return m_funnel; }

private:
    std::vector<PageRow> m_pages;
    std::vector<GeoRow> m_geo;
    std::vector<SessionRow> m_sessions;
    std::vector<FunnelRow> m_funnel;
};

} // namespace studio::core
