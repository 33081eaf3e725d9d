#include "CCUDA.h"
int dg_cuda_placeholder(void) { return 0; }
