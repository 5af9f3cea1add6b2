# Sourced on the GPU machine before running build/gpu binaries (docs/GPU.md):
# makes sure the dynamic loader finds cuBLAS 13. The binaries look in
# /usr/local/cuda/lib64 first (rpath); when it is not there, the copy that
# PyTorch's wheels carry is used.
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.13' && [ ! -e /usr/local/cuda/lib64/libcublas.so.13 ]; then
    d=$(find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -1)
    if [ -n "$d" ]; then
        d=$(dirname "$d")
        l=$(find / -name 'libcublasLt.so.13' -not -path '/proc/*' 2>/dev/null | head -1)
        export LD_LIBRARY_PATH="$d${l:+:$(dirname "$l")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        echo "env.sh: cuBLAS from $d" >&2
    else
        echo "env.sh: libcublas.so.13 not found on this machine" >&2
    fi
fi
