#pragma once
int dg_cpu_placeholder(void);
