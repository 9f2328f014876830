/* hyper_pcap.c: placeholder, being written */
#include "hyper.h"
