// Debian's libopenblas-dev: cblas_* plus OpenBLAS's thread and core-name controls.
#include <cblas.h>
