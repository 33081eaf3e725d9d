/*
 * Internal declarations of libdeepgemm shared by its C part and its Swift part (DeepGEMMC); not
 * installed with deepgemm.h.
 */
#ifndef DG_ABI_INTERNAL_H
#define DG_ABI_INTERNAL_H

#include "deepgemm.h"

/** DLPack's legacy (unversioned) managed tensor; dl_tensor has DLTensor's layout (dg_tensor). */
typedef struct dg_dl_managed_tensor {
    dg_tensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct dg_dl_managed_tensor *self);
} dg_dl_managed_tensor;

/** Records the calling thread's last error (message and argument are copied; NULL means ""). */
void dg_internal_set_error(const char *message, const char *argument, int32_t rank);

/** Clears the calling thread's last error. */
void dg_internal_clear_error(void);

#endif /* DG_ABI_INTERNAL_H */
