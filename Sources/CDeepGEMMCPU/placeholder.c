#include "CDeepGEMMCPU.h"
int dg_cpu_placeholder(void) { return 0; }
