package dev.asmnetedge.core;

/**
 * The head's three axes projected into the image, for drawing the pose.
 *
 * <p>Project convention (asmnet_edge.runtime.metadata.POSE_CONVENTION): camera x right, y up, z
 * toward the camera; head-to-camera rotation {@code R = Rz(-roll) Rx(-pitch) Ry(yaw)}. The columns
 * of R are the head's axes in camera coordinates; an orthographic view drops z and flips y because
 * image rows grow downward. So a positive yaw swings the face axis toward image right, a positive
 * pitch swings it up, and a positive roll turns the x axis clockwise on screen.
 *
 * <pre>{@code
 * double[] axes = PoseAxes.project(yaw, pitch, roll, 80.0);
 * // axes[0..1] head x (red), axes[2..3] head y (green), axes[4..5] face direction (blue)
 * }</pre>
 */
public final class PoseAxes {
    private PoseAxes() {
    }

    /** {@code [xdx, xdy, ydx, ydy, zdx, zdy]}: image-pixel offsets of the three axis tips. */
    public static double[] project(double yawDeg, double pitchDeg, double rollDeg, double length) {
        double[][] rotation = multiply(rotZ(-Math.toRadians(rollDeg)),
                multiply(rotX(-Math.toRadians(pitchDeg)), rotY(Math.toRadians(yawDeg))));
        double[] out = new double[6];
        for (int axis = 0; axis < 3; axis++) {
            out[2 * axis] = rotation[0][axis] * length;       // camera x -> image x
            out[2 * axis + 1] = -rotation[1][axis] * length;  // camera y (up) -> image y (down)
        }
        return out;
    }

    private static double[][] rotX(double angle) {
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        return new double[][] {{1, 0, 0}, {0, cos, -sin}, {0, sin, cos}};
    }

    private static double[][] rotY(double angle) {
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        return new double[][] {{cos, 0, sin}, {0, 1, 0}, {-sin, 0, cos}};
    }

    private static double[][] rotZ(double angle) {
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        return new double[][] {{cos, -sin, 0}, {sin, cos, 0}, {0, 0, 1}};
    }

    private static double[][] multiply(double[][] left, double[][] right) {
        double[][] out = new double[3][3];
        for (int row = 0; row < 3; row++) {
            for (int col = 0; col < 3; col++) {
                for (int inner = 0; inner < 3; inner++) {
                    out[row][col] += left[row][inner] * right[inner][col];
                }
            }
        }
        return out;
    }
}
