#pragma once

#include <QDialog>

namespace studio::ui {

/// Help > About Clickstream Studio: name, version, the Qt and librdkafka versions in use, a
/// one-line description and the homepage. Everything it shows is known in process (no I/O).
class AboutDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AboutDialog(QWidget *parent = nullptr);
};

} // namespace studio::ui
