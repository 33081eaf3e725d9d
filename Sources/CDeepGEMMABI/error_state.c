// The per-thread error state behind dg_last_error_message/argument/rank.
#include "dg_abi_internal.h"

#include <string.h>

enum { DG_MESSAGE_BYTES = 4096, DG_ARGUMENT_BYTES = 256 };

static _Thread_local char last_message[DG_MESSAGE_BYTES];
static _Thread_local char last_argument[DG_ARGUMENT_BYTES];
static _Thread_local int32_t last_rank = -1;

/// Copies `text` (NULL: "") into `buffer` of `size` bytes, truncating and terminating it.
static void copy_text(char *buffer, size_t size, const char *text) {
    if (text == NULL) text = "";
    size_t length = strlen(text);
    if (length >= size) length = size - 1;
    memcpy(buffer, text, length);
    buffer[length] = '\0';
}

void dg_internal_set_error(const char *message, const char *argument, int32_t rank) {
    copy_text(last_message, sizeof last_message, message);
    copy_text(last_argument, sizeof last_argument, argument);
    last_rank = rank;
}

void dg_internal_clear_error(void) { dg_internal_set_error(NULL, NULL, -1); }

const char *dg_last_error_message(void) { return last_message; }

const char *dg_last_error_argument(void) { return last_argument; }

int32_t dg_last_error_rank(void) { return last_rank; }
