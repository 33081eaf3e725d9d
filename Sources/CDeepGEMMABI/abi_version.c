// dg_abi_version: the version of deepgemm.h this library was built with.
#include "deepgemm.h"

int32_t dg_abi_version(void) { return DG_ABI_VERSION; }
