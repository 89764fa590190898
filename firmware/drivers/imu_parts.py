"""The IMU parts a board may name in imu.part, and how to build each.

Adding a part: write its driver with the interface described in mpu6050.py,
then add its name to PARTS and a branch to make_imu.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine
    from typing import Protocol

    class Imu(Protocol):
        accel_x: int
        accel_y: int
        accel_z: int
        gyro_x: int
        gyro_y: int
        gyro_z: int
        temp_raw: int

        def check(self) -> None: ...
        def configure(self) -> None: ...
        def self_test(self) -> bool: ...
        def read(self) -> None: ...
        def accel_mg(self, raw: int) -> int: ...
        def gyro_mdeg_s(self, raw: int) -> int: ...

PARTS = ("mpu6050",)


def make_imu(part: str, i2c: "machine.I2C", address: int) -> "Imu":
    if part == "mpu6050":
        from drivers.mpu6050 import MPU6050
        return MPU6050(i2c, address)
    raise ValueError("unknown IMU part %r" % (part,))
