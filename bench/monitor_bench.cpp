#include <cstdio>

int main()
{
    std::puts("monitor benchmark: not written yet");
    return 0;
}
