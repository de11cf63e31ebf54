#include "core/store/csvreport.h"

#include "core/store/reporttable.h"

#include <filesystem>

namespace studio::core {

std::string csvText(std::string_view text)
{
    std::string cell;
    if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                          text[0] == '\t' || text[0] == '\r'))
        cell.push_back('\'');
    cell.append(text);
    if (cell.find_first_of(",\"\r\n") == std::string::npos)
        return cell;
    std::string quoted = "\"";
    for (const char c : cell) {
        if (c == '"')
            quoted.push_back('"');
        quoted.push_back(c);
    }
    quoted.push_back('"');
    return quoted;
}

void CsvReportCollector::onFinal(FinalResults &&results)
{
    m_pageRows += results.pages.size();
    m_geoRows += results.geo.size();
    m_sessionRows += results.sessions.size();
    m_funnelRows += results.funnel.size();
    if (!m_keepRows)
        return;
    for (auto &p : results.pages)
        m_pages.push_back(std::move(p.row));
    m_geo.insert(m_geo.end(), results.geo.begin(), results.geo.end());
    m_sessions.insert(m_sessions.end(), results.sessions.begin(), results.sessions.end());
    m_funnel.insert(m_funnel.end(), results.funnel.begin(), results.funnel.end());
}

bool CsvReportCollector::write(const std::string &directory, std::string *error) const
{
    if (!m_keepRows) {
        if (error)
            *error = "no report rows were kept for " + directory + " (counting only)";
        return false;
    }
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) {
        if (error)
            *error = "cannot create " + directory + ": " + ec.message();
        return false;
    }
    // The cells and CSV rules shared by every report: core/store/reporttable.h.
    const std::filesystem::path dir(directory);
    return writeReportCsv(reportOf(m_pages), (dir / "page_metrics.csv").string(), error) &&
           writeReportCsv(reportOf(m_geo), (dir / "geo_metrics.csv").string(), error) &&
           writeReportCsv(reportOf(m_sessions), (dir / "sessions.csv").string(), error) &&
           writeReportCsv(reportOf(m_funnel), (dir / "product_funnel.csv").string(), error);
}

} // namespace studio::core
