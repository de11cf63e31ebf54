#pragma once

#include <QMainWindow>

class QLabel;

namespace studio::ui {

/// The main window. For now a placeholder that shows which broker the app is on; the navigation
/// and the dashboards come with the GUI issue.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(const QString &brokerDescription, QWidget *parent = nullptr);

private:
    QLabel *m_brokerLabel = nullptr;
};

} // namespace studio::ui
