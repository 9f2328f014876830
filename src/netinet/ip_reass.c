/* ip_reass.c: placeholder, being written */
#include "netinet/ip_reass.h"
