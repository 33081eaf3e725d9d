#pragma once
int dg_cuda_placeholder(void);
