// The producer table model's change protocol, without an engine.
#include "ui/models/producermodel.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace studio;

namespace {

core::ProducerSample producer(int id, std::uint64_t produced = 0)
{
    core::ProducerSample p;
    p.id = id;
    p.settings.producer.name = "p" + std::to_string(id);
    p.stats.produced = produced;
    return p;
}

} // namespace

TEST_CASE("the producer model inserts, removes and changes rows precisely", "[ui]")
{
    ui::ProducerModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy layout(&model, &QAbstractItemModel::layoutChanged);

    model.update({producer(1), producer(2), producer(3)});
    CHECK(model.rowCount() == 3);
    CHECK(inserted.count() == 3);
    CHECK(changed.isEmpty());

    // Nothing changed: no signal at all.
    model.update({producer(1), producer(2), producer(3)});
    CHECK(changed.isEmpty());

    // One counter of one row: exactly that cell.
    model.update({producer(1), producer(2, 42), producer(3)});
    REQUIRE(changed.count() == 1);
    CHECK(changed[0][0].toModelIndex() == model.index(1, ui::ProducerModel::Sent));
    CHECK(changed[0][1].toModelIndex() == model.index(1, ui::ProducerModel::Sent));
    CHECK(model.data(model.index(1, ui::ProducerModel::Sent)).toString() == QStringLiteral("42"));

    // The middle one goes, a new one comes.
    model.update({producer(1), producer(3), producer(4)});
    REQUIRE(removed.count() == 1);
    CHECK(removed[0][1].toInt() == 1);
    CHECK(inserted.count() == 4);
    CHECK(inserted[3][1].toInt() == 2);
    CHECK(model.idAt(0) == 1);
    CHECK(model.idAt(1) == 3);
    CHECK(model.idAt(2) == 4);
    CHECK(model.rowOf(4) == 2);
    CHECK(model.rowOf(2) == -1);
    CHECK(model.data(model.index(2, 0), ui::ProducerModel::IdRole).toInt() == 4);

    model.update({});
    CHECK(model.rowCount() == 0);
    CHECK(reset.isEmpty());
    CHECK(layout.isEmpty());
}
