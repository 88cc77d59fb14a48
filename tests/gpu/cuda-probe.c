/* cuda-probe.c — does the CUDA driver work inside a container? dlopen()s libcuda.so.1 (what the
 * CUDA runtime and PyTorch do), calls cuInit and cuDeviceGetCount, and prints the driver version
 * and each device's name. No CUDA headers or toolkit are needed: the few driver-API entry points
 * are declared here with their documented C signatures. Exit status: 0 when cuInit succeeded,
 * 1 otherwise (the messages say which step failed). Built and run by tests/gpu/real-gpu-check.sh;
 * not part of the CI build. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int CUresult; /* CUDA_SUCCESS is 0 */
typedef int CUdevice;

static void *sym (void *h, const char *name)
{
  void *p = dlsym (h, name);
  if (p == NULL)
    fprintf (stderr, "cuda-probe: %s not in libcuda.so.1: %s\n", name, dlerror ());
  return p;
}

int main (void)
{
  void *h = dlopen ("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    {
      fprintf (stderr, "cuda-probe: dlopen libcuda.so.1: %s\n", dlerror ());
      return 1;
    }
  CUresult (*cu_init) (unsigned) = (CUresult (*) (unsigned))sym (h, "cuInit");
  CUresult (*cu_version) (int *) = (CUresult (*) (int *))sym (h, "cuDriverGetVersion");
  CUresult (*cu_count) (int *) = (CUresult (*) (int *))sym (h, "cuDeviceGetCount");
  CUresult (*cu_get) (CUdevice *, int) = (CUresult (*) (CUdevice *, int))sym (h, "cuDeviceGet");
  CUresult (*cu_name) (char *, int, CUdevice)
      = (CUresult (*) (char *, int, CUdevice))sym (h, "cuDeviceGetName");
  if (!cu_init || !cu_version || !cu_count)
    return 1;

  Dl_info info;
  if (dladdr ((void *)cu_init, &info) && info.dli_fname)
    printf ("cuda-probe: libcuda.so.1 is %s\n", info.dli_fname);
  CUresult r = cu_init (0);
  if (r != 0)
    {
      /* 100: CUDA_ERROR_NO_DEVICE; 999: unknown (often /dev/nvidia-uvm missing); 35: the
       * driver is older than this libcuda */
      fprintf (stderr, "cuda-probe: cuInit(0) failed: CUresult %d\n", r);
      return 1;
    }
  int version = 0, count = -1;
  if (cu_version (&version) == 0)
    printf ("cuda-probe: driver API version %d.%d\n", version / 1000, (version % 1000) / 10);
  r = cu_count (&count);
  if (r != 0)
    {
      fprintf (stderr, "cuda-probe: cuDeviceGetCount failed: CUresult %d\n", r);
      return 1;
    }
  printf ("cuda-probe: device count %d\n", count);
  for (int i = 0; i < count && cu_get && cu_name; i++)
    {
      CUdevice d;
      char name[256] = "?";
      if (cu_get (&d, i) == 0 && cu_name (name, (int)sizeof name, d) == 0)
        printf ("cuda-probe: device %d: %s\n", i, name);
    }
  return 0;
}
