/* The stop request shared by the host's signal handler and core's long loops. */
#include "cancel.h"

volatile sig_atomic_t tt_cancel;
volatile sig_atomic_t tt_cancel_deferred;
volatile sig_atomic_t tt_resized;
