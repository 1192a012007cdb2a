// Appendix B's two CUDA kernels, `add` and `mul`, with a main() that compiles and checks itself.
//
// The book's listing did not compile: its main() used the undefined names d_x, x, d_y and y, never copied
// a and b to the device, freed the wrong buffers and checked no CUDA call. This one allocates, copies,
// launches, copies back, checks every call and frees what it allocated.
//
// Build:  nvcc -O2 -o vector_ops vector_ops.cu
// Run:    ./vector_ops                  the book's demo on n = 1<<20 elements, checked on the host
//         ./vector_ops IN.bin OUT.bin   IN: int32 n, then n float32 a, then n float32 b;
//                                       OUT: n float32 a+b, then n float32 a*b (nlpbook.cuda_ext checks it with NumPy)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

// Every CUDA runtime call goes through this: on failure, say which call, where, and why, and exit 1.
#define CUDA_CHECK(call)                                                                      \
    do {                                                                                      \
        cudaError_t err_ = (call);                                                            \
        if (err_ != cudaSuccess) {                                                            \
            std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,          \
                         cudaGetErrorString(err_));                                           \
            std::exit(1);                                                                     \
        }                                                                                     \
    } while (0)

// out[i] = a[i] + b[i]; a grid-stride loop, so any grid size covers any n.
__global__ void add(int n, const float *a, const float *b, float *out) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        out[i] = a[i] + b[i];
}

// out[i] = a[i] * b[i].
__global__ void mul(int n, const float *a, const float *b, float *out) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        out[i] = a[i] * b[i];
}

// Run both kernels on the host arrays a and b (n elements each); results into sum and prod.
static void add_mul_on_device(int n, const float *a, const float *b, float *sum, float *prod) {
    const size_t bytes = (size_t)n * sizeof(float);
    float *d_a = nullptr, *d_b = nullptr, *d_out = nullptr;
    CUDA_CHECK(cudaMalloc(&d_a, bytes));
    CUDA_CHECK(cudaMalloc(&d_b, bytes));
    CUDA_CHECK(cudaMalloc(&d_out, bytes));
    CUDA_CHECK(cudaMemcpy(d_a, a, bytes, cudaMemcpyHostToDevice));   // the book never copied its inputs
    CUDA_CHECK(cudaMemcpy(d_b, b, bytes, cudaMemcpyHostToDevice));
    const int block = 256, grid = (n + block - 1) / block < 4096 ? (n + block - 1) / block : 4096;
    add<<<grid, block>>>(n, d_a, d_b, d_out);
    CUDA_CHECK(cudaGetLastError());                                  // a bad launch configuration shows up here
    CUDA_CHECK(cudaMemcpy(sum, d_out, bytes, cudaMemcpyDeviceToHost)); // waits for the kernel; reports its errors
    mul<<<grid, block>>>(n, d_a, d_b, d_out);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(prod, d_out, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_a));                                       // free exactly what was allocated
    CUDA_CHECK(cudaFree(d_b));
    CUDA_CHECK(cudaFree(d_out));
}

static int demo() {
    const int n = 1 << 20;
    std::vector<float> a(n), b(n), sum(n), prod(n);
    for (int i = 0; i < n; ++i) { a[i] = 1.0f + (i % 100); b[i] = 2.0f - (i % 7) * 0.5f; }
    add_mul_on_device(n, a.data(), b.data(), sum.data(), prod.data());
    int bad = 0;
    for (int i = 0; i < n; ++i)
        bad += std::fabs(sum[i] - (a[i] + b[i])) > 1e-6f || std::fabs(prod[i] - a[i] * b[i]) > 1e-5f * std::fabs(a[i] * b[i]);
    std::printf("n=%d add[0..2]=%g %g %g mul[0..2]=%g %g %g mismatches=%d\n", n, sum[0], sum[1], sum[2],
                prod[0], prod[1], prod[2], bad);
    return bad == 0 ? 0 : 1;
}

static int from_files(const char *in_path, const char *out_path) {
    FILE *in = std::fopen(in_path, "rb");
    if (!in) { std::fprintf(stderr, "cannot open %s\n", in_path); return 2; }
    int n = 0;
    if (std::fread(&n, sizeof(int), 1, in) != 1 || n <= 0) { std::fprintf(stderr, "%s: bad header\n", in_path); return 2; }
    std::vector<float> a(n), b(n), sum(n), prod(n);
    if (std::fread(a.data(), sizeof(float), n, in) != (size_t)n || std::fread(b.data(), sizeof(float), n, in) != (size_t)n) {
        std::fprintf(stderr, "%s: expected %d + %d floats after the header\n", in_path, n, n);
        return 2;
    }
    std::fclose(in);
    add_mul_on_device(n, a.data(), b.data(), sum.data(), prod.data());
    FILE *out = std::fopen(out_path, "wb");
    if (!out) { std::fprintf(stderr, "cannot write %s\n", out_path); return 2; }
    std::fwrite(sum.data(), sizeof(float), n, out);
    std::fwrite(prod.data(), sizeof(float), n, out);
    std::fclose(out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 1) return demo();
    if (argc == 3) return from_files(argv[1], argv[2]);
    std::fprintf(stderr, "usage: %s [IN.bin OUT.bin]\n", argv[0]);
    return 2;
}
