source /work/scratch/s36/env.sh
cd /work/scratch/s40
P="$(cat /work/scratch/s40/probes.txt) /work/scratch/s40/probe44 /work/scratch/s40/probe45 /work/scratch/s40/probe46"
TREE=/tmp/w3 python numrun.py $P > /work/scratch/s41/vK.txt 2>/dev/null
