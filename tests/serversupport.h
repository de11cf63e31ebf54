#pragma once

// Real PostgreSQL and Redis servers on loopback, started and stopped by the tests.
