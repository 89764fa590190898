"""The IMU parts a board may name in imu.part, and how to build each.

Adding a part: write its driver with the interface described in mpu6050.py,
then add its name to PARTS and a branch to make_imu.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine
    from imu_protocol import Imu  # typings/: seen by the type checker only

PARTS = ("mpu6050",)


def make_imu(part: str, i2c: "machine.I2C", address: int) -> "Imu":
    if part == "mpu6050":
        from drivers.mpu6050 import MPU6050
        return MPU6050(i2c, address)
    raise ValueError("unknown IMU part %r" % (part,))
