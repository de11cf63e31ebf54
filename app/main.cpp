#include "app/cli.h"

int main(int argc, char **argv)
{
    return studio::app::runCommandLine(argc, argv);
}
