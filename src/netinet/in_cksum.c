/* in_cksum.c: placeholder, being written */
#include "netinet/in_cksum.h"
