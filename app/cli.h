#pragma once

namespace studio::app {

/// Parses the command line and runs the chosen subcommand (the GUI when there is none, or the
/// headless mode when there is no display). Returns the exit code.
int runCommandLine(int argc, char **argv);

} // namespace studio::app
